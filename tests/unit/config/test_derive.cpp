#include "host/config/config.hpp"

#include <doctest/doctest.h>

using namespace megaswift::config;
using nlohmann::json;
using Args = std::vector<std::string>;

namespace {

// The smallest valid megatron sft command line, plus `extra`.
ParsedArgs sft(Args extra = {}, bool resolve = true) {
  Args args{"--model", "Qwen/Qwen2.5-7B-Instruct", "--dataset", "d.jsonl", "--train_iters", "100"};
  args.insert(args.end(), extra.begin(), extra.end());
  ParsedArgs parsed = parse_command_line(Command::sft, args);
  if (resolve) resolve_derived_defaults(parsed);
  return parsed;
}

std::string problems_of(Command command, const Args& args) {
  ParsedArgs parsed = parse_command_line(command, args);
  try {
    resolve_derived_defaults(parsed);
  } catch (const ConfigError& e) {
    return e.what();
  }
  return "";
}

std::string sft_problems(Args extra) {
  Args args{"--model", "m", "--dataset", "d", "--train_iters", "100"};
  args.insert(args.end(), extra.begin(), extra.end());
  return problems_of(Command::sft, args);
}

}  // namespace

TEST_CASE("eval_interval follows save_interval and lr_decay_iters follows train_iters when unset") {
  auto args = sft({"--save_interval", "50"});
  CHECK(args.at("eval_interval") == 50);
  CHECK(args.at("lr_decay_iters") == 100);
  args = sft({"--save_interval", "50", "--eval_steps", "20", "--lr_decay_iters", "80"});
  CHECK(args.at("eval_interval") == 20);
  CHECK(args.at("lr_decay_iters") == 80);
  CHECK(sft().at("eval_interval") == 500);
  // Without train_iters (epochs given) the decay stays unset until the trainer knows the length.
  auto epochs = parse_command_line(Command::sft, {"--model", "m", "--dataset", "d", "--num_train_epochs", "2"});
  resolve_derived_defaults(epochs);
  CHECK(epochs.at("lr_decay_iters").is_null());
  CHECK(epochs.at("num_train_epochs") == 2);
}

TEST_CASE("save defaults to megatron_output/<model suffix> and tensorboard_dir to <save>/runs") {
  auto args = sft();
  CHECK(args.at("save") == "megatron_output/Qwen2.5-7B-Instruct");
  CHECK(args.at("tensorboard_dir") == "megatron_output/Qwen2.5-7B-Instruct/runs");
  auto from_load = parse_command_line(Command::pt, {"--load", "/ckpt/Qwen2.5-7B-Instruct-mcore/", "--dataset", "d",
                                                   "--train_iters", "1"});
  resolve_derived_defaults(from_load);
  CHECK(from_load.at("save") == "megatron_output/Qwen2.5-7B-Instruct-mcore");
  args = sft({"--output_dir", "out/", "--tensorboard_dir", "tb"});
  CHECK(args.at("save") == "out/");
  CHECK(args.at("tensorboard_dir") == "tb");
  CHECK(sft({"--save", "out/"}).at("tensorboard_dir") == "out/runs");
}

TEST_CASE("torch_dtype sets bf16 or fp16, and apply_query_key_layer_scaling follows fp16") {
  auto bf = sft({"--torch_dtype", "bfloat16"});
  CHECK(bf.at("bf16") == true);
  CHECK(bf.at("fp16") == false);
  CHECK(bf.at("apply_query_key_layer_scaling") == false);
  auto fp = sft({"--torch_dtype", "float16"});
  CHECK(fp.at("fp16") == true);
  CHECK(fp.at("apply_query_key_layer_scaling") == true);
  CHECK(sft({"--fp16", "true", "--apply_query_key_layer_scaling", "false"}).at("apply_query_key_layer_scaling") == false);
  auto none = sft();
  CHECK(none.at("bf16") == false);
  CHECK(none.at("fp16") == false);
}

TEST_CASE("model shape defaults: group_query_attention, ffn_hidden_size, seq_length") {
  auto args = sft();
  CHECK(args.at("group_query_attention") == false);
  CHECK(args.at("ffn_hidden_size").is_null());
  CHECK(args.at("seq_length").is_null());  // unknown until the model's max_position_embeddings is
  args = sft({"--num_query_groups", "4", "--hidden_size", "1024", "--max_position_embeddings", "4096",
              "--num_attention_heads", "16"});
  CHECK(args.at("group_query_attention") == true);
  CHECK(args.at("ffn_hidden_size") == 4096);
  CHECK(args.at("seq_length") == 4096);
}

TEST_CASE("values derived before are recomputed after assign(), assigned and given ones kept") {
  auto args = sft({"--seq_length", "512"});
  CHECK(args.at("group_query_attention") == false);
  // What a model's config.json would supply:
  assign(args, "num_query_groups", 4);
  assign(args, "hidden_size", 1024);
  assign(args, "num_attention_heads", 16);
  assign(args, "max_position_embeddings", 32768);
  assign(args, "ffn_hidden_size", 2816);
  resolve_derived_defaults(args);
  CHECK(args.at("group_query_attention") == true);
  CHECK(args.at("ffn_hidden_size") == 2816);
  CHECK(args.at("seq_length") == 512);
  // The trainer adds the version directory to save; tensorboard_dir follows.
  assign(args, "save", "megatron_output/Qwen2.5-7B-Instruct/v0-20250101-000000");
  resolve_derived_defaults(args);
  CHECK(args.at("tensorboard_dir") == "megatron_output/Qwen2.5-7B-Instruct/v0-20250101-000000/runs");
  CHECK_THROWS_WITH_AS(assign(args, "num_query_groups", "four"), "--num_query_groups: \"four\" is not an integer >= 1",
                       ConfigError);
  CHECK_THROWS_WITH_AS(assign(args, "to_hf", true), doctest::Contains("not an option of megatron sft"), ConfigError);
}

TEST_CASE("data_seed follows seed, and a validation dataset turns the split off") {
  CHECK(sft({"--seed", "7"}).at("data_seed") == 7);
  CHECK(sft().at("split_dataset_ratio") == 0.01);
  CHECK(sft({"--val_dataset", "v.jsonl"}).at("split_dataset_ratio") == 0.0);
  CHECK(sft({"--streaming", "true"}).at("split_dataset_ratio") == 0.0);
  CHECK(sft_problems({"--val_dataset", "v", "--split_dataset_ratio", "0.1"}) ==
        "--split_dataset_ratio 0.1 and --val_dataset both choose validation data; drop one of them");
}

TEST_CASE("swift export derives output_dir from its direction") {
  auto to_mcore = parse_command_line(Command::export_model, {"--model", "Qwen/Qwen2.5-7B-Instruct", "--to_mcore", "true"});
  resolve_derived_defaults(to_mcore);
  CHECK(to_mcore.at("output_dir") == "Qwen2.5-7B-Instruct-mcore");
  auto to_hf = parse_command_line(Command::export_model, {"--mcore_model", "out/v0-x/", "--to_hf", "true"});
  resolve_derived_defaults(to_hf);
  CHECK(to_hf.at("output_dir") == "out/v0-x-hf");
}

TEST_CASE("global_batch_size must be a multiple of micro_batch_size") {
  CHECK(sft_problems({"--micro_batch_size", "4", "--global_batch_size", "10"}) ==
        "--global_batch_size 10 is not a multiple of --micro_batch_size 4; use e.g. --global_batch_size 12");
}

TEST_CASE("recompute_method and recompute_num_layers go with full recompute only") {
  CHECK(sft_problems({"--recompute_method", "uniform"}) ==
        "--recompute_method uniform only applies with --recompute_granularity full; add --recompute_granularity full "
        "or drop --recompute_method");
  CHECK(sft_problems({"--recompute_granularity", "full"}).starts_with(
      "--recompute_granularity full needs --recompute_method uniform|block and --recompute_num_layers N"));
  CHECK(sft_problems({"--recompute_granularity", "full", "--recompute_method", "block", "--recompute_num_layers", "2"}) == "");
}

TEST_CASE("learning-rate rules: lr >= min_lr and warm-up shorter than decay") {
  CHECK(sft_problems({"--lr", "1e-6", "--min_lr", "1e-5"}) == "--lr 1e-06 is below --min_lr 1e-05; raise --lr or lower --min_lr");
  CHECK(sft_problems({"--lr_warmup_iters", "100"}) ==
        "--lr_warmup_iters 100 must be below --lr_decay_iters 100 (which is --train_iters when unset); shorten the "
        "warm-up or lengthen the decay");
}

TEST_CASE("precision rules: torch_dtype and fp16/bf16 must agree") {
  CHECK(sft_problems({"--torch_dtype", "bfloat16", "--fp16", "true"}).find(
            "--torch_dtype bfloat16 contradicts --fp16 true; drop --fp16 (--torch_dtype sets it)") != std::string::npos);
  CHECK(sft_problems({"--fp16", "true", "--bf16", "true"}) == "--fp16 and --bf16 are both true; choose one");
  CHECK(sft_problems({"--torch_dtype", "bfloat16", "--bf16", "true"}) == "");
}

TEST_CASE("training needs a model, data and a length, and all missing pieces are listed at once") {
  const auto message = problems_of(Command::sft, {});
  CHECK(message.starts_with("megatron sft: 3 problems:\n"));
  CHECK(message.find("needs a model: pass --model") != std::string::npos);
  CHECK(message.find("needs training data: pass --dataset") != std::string::npos);
  CHECK(message.find("needs the training length: pass --train_iters N, or --num_train_epochs N") != std::string::npos);
  CHECK(problems_of(Command::pt, {"--model", "m", "--dataset", "d", "--streaming", "--num_train_epochs", "1"})
            .starts_with("--streaming true needs --train_iters"));
}

TEST_CASE("parallel and model-shape rules name the sizes that clash") {
  CHECK(sft_problems({"--num_attention_heads", "14", "--tensor_model_parallel_size", "4"}) ==
        "--num_attention_heads 14 is not divisible by --tensor_model_parallel_size 4; choose a tensor-parallel size "
        "that divides the head count");
  CHECK(sft_problems({"--num_layers", "28", "--pipeline_model_parallel_size", "3"}).starts_with(
      "--num_layers 28 is not divisible by --pipeline_model_parallel_size 3"));
  CHECK(sft_problems({"--overlap_param_gather", "true", "--overlap_grad_reduce", "true", "--use_distributed_optimizer",
                      "false"}) == "--overlap_param_gather true needs --use_distributed_optimizer true");
  CHECK(sft_problems({"--tp_comm_overlap", "true"}).starts_with("--tp_comm_overlap true needs --sequence_parallel true"));
  // Defaults that only the model fills in later (num_query_groups 1) never trip a rule.
  CHECK(sft_problems({"--tensor_model_parallel_size", "8"}) == "");
}

TEST_CASE("swift export and swift infer need their inputs") {
  CHECK(problems_of(Command::export_model, {"--model", "m"}).starts_with("swift export needs a direction: --to_mcore true"));
  CHECK(problems_of(Command::export_model, {"--model", "m", "--mcore_model", "c", "--to_mcore", "--to_hf"}) ==
        "--to_mcore and --to_hf are both true; choose one direction");
  CHECK(problems_of(Command::export_model, {"--to_hf", "true"}) == "--to_hf true needs --mcore_model <Megatron checkpoint dir>");
  CHECK(problems_of(Command::infer, {"--stream"}).starts_with("swift infer needs a model"));
  CHECK(problems_of(Command::infer, {"--mcore_model", "ckpt"}) == "");
}
