#include "host/config/config.hpp"

#include "shell_words.hpp"

#include <doctest/doctest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>

using namespace megaswift::config;
using megaswift::config::test::command_line;
using nlohmann::json;

namespace {

// The four command lines of the seed's quick start, as the seed writes them.
const char* kExportToMcore = R"(CUDA_VISIBLE_DEVICES=0 \
swift export \
    --model Qwen/Qwen2.5-7B-Instruct \
    --to_mcore true \
    --torch_dtype bfloat16 \
    --test_convert_precision true \
    --output_dir Qwen2.5-7B-Instruct-mcore)";

const char* kSft = R"(NPROC_PER_NODE=2 \
CUDA_VISIBLE_DEVICES=0,1 \
megatron sft \
    --load Qwen2.5-7B-Instruct-mcore \
    --dataset 'AI-ModelScope/alpaca-gpt4-data-zh#500' \
              'AI-ModelScope/alpaca-gpt4-data-en#500' \
              'swift/self-cognition#500' \
    --tensor_model_parallel_size 2 \
    --micro_batch_size 4 \
    --global_batch_size 16 \
    --recompute_granularity selective \
    --train_iters 100 \
    --eval_iters 5 \
    --finetune true \
    --cross_entropy_loss_fusion true \
    --lr 1e-5 \
    --lr_warmup_iters 10 \
    --min_lr 1e-6 \
    --save megatron_output/Qwen2.5-7B-Instruct \
    --save_interval 100 \
    --max_length 2048 \
    --system 'You are a helpful assistant.' \
    --num_workers 4 \
    --no_save_optim true \
    --no_save_rng true \
    --dataset_num_proc 4 \
    --model_author swift \
    --model_name swift-robot)";

const char* kExportToHf = R"(CUDA_VISIBLE_DEVICES=0 \
swift export \
    --mcore_model megatron_output/Qwen2.5-7B-Instruct/vx-xxx \
    --to_hf true \
    --torch_dtype bfloat16 \
    --test_convert_precision true \
    --output_dir megatron_output/Qwen2.5-7B-Instruct/vx-xxx-hf)";

const char* kInfer = R"(CUDA_VISIBLE_DEVICES=0 \
swift infer \
    --model megatron_output/Qwen2.5-7B-Instruct/vx-xxx-hf \
    --stream true \
    --temperature 0 \
    --max_new_tokens 2048)";

ParsedArgs parse_resolved(const char* text) {
  auto line = command_line(text);
  REQUIRE(line.has_value());
  ParsedArgs args = parse_command_line(line->command, line->args);
  resolve_derived_defaults(args);
  return args;
}

}  // namespace

TEST_CASE("quick start: swift export --to_mcore parses with its values") {
  const auto args = parse_resolved(kExportToMcore);
  CHECK(args.command == Command::export_model);
  CHECK(args.at("model") == "Qwen/Qwen2.5-7B-Instruct");
  CHECK(args.at("to_mcore") == true);
  CHECK(args.at("to_hf") == false);
  CHECK(args.at("torch_dtype") == "bfloat16");
  CHECK(args.at("test_convert_precision") == true);
  CHECK(args.at("output_dir") == "Qwen2.5-7B-Instruct-mcore");
}

TEST_CASE("quick start: megatron sft parses with its values and derived defaults") {
  const auto args = parse_resolved(kSft);
  CHECK(args.command == Command::sft);
  CHECK(args.at("load") == "Qwen2.5-7B-Instruct-mcore");
  CHECK(args.at("dataset") == json::array({"AI-ModelScope/alpaca-gpt4-data-zh#500",
                                           "AI-ModelScope/alpaca-gpt4-data-en#500", "swift/self-cognition#500"}));
  CHECK(args.at("tensor_model_parallel_size") == 2);
  CHECK(args.at("micro_batch_size") == 4);
  CHECK(args.at("global_batch_size") == 16);
  CHECK(args.at("recompute_granularity") == "selective");
  CHECK(args.at("train_iters") == 100);
  CHECK(args.at("eval_iters") == 5);
  CHECK(args.at("finetune") == true);
  CHECK(args.at("cross_entropy_loss_fusion") == true);
  CHECK(args.at("lr") == 1e-5);
  CHECK(args.at("lr_warmup_iters") == 10);
  CHECK(args.at("min_lr") == 1e-6);
  CHECK(args.at("save") == "megatron_output/Qwen2.5-7B-Instruct");
  CHECK(args.at("save_interval") == 100);
  CHECK(args.at("max_length") == 2048);
  CHECK(args.at("system") == "You are a helpful assistant.");
  CHECK(args.at("num_workers") == 4);
  CHECK(args.at("no_save_optim") == true);
  CHECK(args.at("no_save_rng") == true);
  CHECK(args.at("dataset_num_proc") == 4);
  CHECK(args.at("model_author") == json::array({"swift"}));
  CHECK(args.at("model_name") == json::array({"swift-robot"}));
  // Derived:
  CHECK(args.at("eval_interval") == 100);
  CHECK(args.at("lr_decay_iters") == 100);
  CHECK(args.at("tensorboard_dir") == "megatron_output/Qwen2.5-7B-Instruct/runs");
  CHECK(args.at("data_seed") == 42);
  CHECK(args.at("loss_scale") == "default");
}

TEST_CASE("quick start: swift export --to_hf parses with its values") {
  const auto args = parse_resolved(kExportToHf);
  CHECK(args.at("mcore_model") == "megatron_output/Qwen2.5-7B-Instruct/vx-xxx");
  CHECK(args.at("to_hf") == true);
  CHECK(args.at("torch_dtype") == "bfloat16");
  CHECK(args.at("test_convert_precision") == true);
  CHECK(args.at("output_dir") == "megatron_output/Qwen2.5-7B-Instruct/vx-xxx-hf");
}

TEST_CASE("quick start: swift infer parses with its values") {
  const auto args = parse_resolved(kInfer);
  CHECK(args.command == Command::infer);
  CHECK(args.at("model") == "megatron_output/Qwen2.5-7B-Instruct/vx-xxx-hf");
  CHECK(args.at("stream") == true);
  CHECK(args.at("temperature") == 0.0);
  CHECK(args.at("max_new_tokens") == 2048);
  CHECK(args.at("infer_backend") == "pt");
}

TEST_CASE("the quick-start command lines of the seed document parse") {
  const char* source = std::getenv("MEGASWIFT_SOURCE_DIR");
  const auto path = std::filesystem::path(source ? source : ".") / ".." / "shared" / "seed" / "megatron-swift-training.md";
  if (!std::filesystem::exists(path)) {
    MESSAGE("skipped: " << path.string() << " is not present");
    return;
  }
  std::ifstream in(path);
  std::string line, block;
  bool in_quick_start = false, in_shell = false;
  int parsed = 0;
  while (std::getline(in, line)) {
    if (line.starts_with("## ")) in_quick_start = line.starts_with("## Quick Start");
    if (!in_quick_start) continue;
    if (!in_shell && line.starts_with("```shell")) {
      in_shell = true;
      block.clear();
    } else if (in_shell && line.starts_with("```")) {
      in_shell = false;
      auto command = command_line(block);
      if (!command) continue;
      INFO(block);
      ParsedArgs args;
      CHECK_NOTHROW(args = parse_command_line(command->command, command->args));
      CHECK_NOTHROW(resolve_derived_defaults(args));
      ++parsed;
    } else if (in_shell) {
      block += line + "\n";
    }
  }
  CHECK(parsed == 4);
}
