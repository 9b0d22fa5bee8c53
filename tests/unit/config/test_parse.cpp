#include "host/config/config.hpp"

#include <doctest/doctest.h>

using namespace megaswift::config;
using nlohmann::json;
using Args = std::vector<std::string>;

namespace {
ParsedArgs sft(const Args& args) { return parse_command_line(Command::sft, args); }
}  // namespace

TEST_CASE("bool flags take true/false, True/False, 1/0, or nothing for true") {
  CHECK(sft({"--finetune", "true"}).at("finetune") == true);
  CHECK(sft({"--finetune", "True"}).at("finetune") == true);
  CHECK(sft({"--finetune", "1"}).at("finetune") == true);
  CHECK(sft({"--use_distributed_optimizer", "false"}).at("use_distributed_optimizer") == false);
  CHECK(sft({"--use_distributed_optimizer", "False"}).at("use_distributed_optimizer") == false);
  CHECK(sft({"--use_distributed_optimizer", "0"}).at("use_distributed_optimizer") == false);
  CHECK(sft({"--finetune=false"}).at("finetune") == false);
  const auto bare = sft({"--finetune", "--lr", "2e-5"});
  CHECK(bare.at("finetune") == true);
  CHECK(bare.at("lr") == 2e-5);
  CHECK(sft({"--lr", "2e-5", "--finetune"}).at("finetune") == true);
}

TEST_CASE("a bad bool names the flag, the value and the accepted spellings") {
  CHECK_THROWS_WITH_AS(sft({"--finetune", "yes-please"}),
                       "--finetune: 'yes-please' is not a boolean; write true or false (True/False/1/0 also work)",
                       ConfigError);
  CHECK_THROWS_WITH_AS(sft({"--finetune", "true", "false"}), doctest::Contains("--finetune takes one value"), ConfigError);
}

TEST_CASE("several values follow one list flag until the next flag") {
  const auto args = sft({"--dataset", "a#500", "b", "c", "--lr", "1e-5"});
  CHECK(args.at("dataset") == json::array({"a#500", "b", "c"}));
  CHECK(args.at("lr") == 1e-5);
  CHECK(sft({"--dataset=a", "b"}).at("dataset") == json::array({"a", "b"}));
  CHECK_THROWS_WITH_AS(sft({"--dataset"}), "--dataset needs at least one value", ConfigError);
}

TEST_CASE("list flags given twice add up, other flags given twice are an error") {
  CHECK(sft({"--dataset", "a", "--lr", "1", "--dataset", "b"}).at("dataset") == json::array({"a", "b"}));
  CHECK_THROWS_WITH_AS(sft({"--lr", "1", "--lr", "2"}), "--lr is given twice; give it once", ConfigError);
  CHECK_THROWS_WITH_AS(sft({"--save", "x", "--output_dir", "y"}), "--output_dir is given twice (as --save); give it once",
                       ConfigError);
}

TEST_CASE("--flag=value and --kebab-case spellings work") {
  const auto args = sft({"--micro-batch-size", "2", "--global_batch_size=32", "--recompute-granularity=full"});
  CHECK(args.at("micro_batch_size") == 2);
  CHECK(args.at("global_batch_size") == 32);
  CHECK(args.at("recompute_granularity") == "full");
  CHECK(args.explicitly_set == std::vector<std::string>{"micro_batch_size", "global_batch_size", "recompute_granularity"});
}

TEST_CASE("unknown flag names the closest known flag") {
  CHECK_THROWS_WITH_AS(sft({"--lrr", "1e-5"}),
                       "unknown flag --lrr for megatron sft; did you mean --lr? (megatron sft --help lists every flag)",
                       ConfigError);
  CHECK_THROWS_WITH_AS(sft({"--lr_decay_stlye", "cosine"}), doctest::Contains("did you mean --lr_decay_style?"), ConfigError);
  CHECK_THROWS_WITH_AS(sft({"--save_step", "10"}), doctest::Contains("did you mean --save_steps?"), ConfigError);
  // No prefix guessing: a prefix of a flag is not that flag.
  CHECK_THROWS_WITH_AS(sft({"--micro_batch", "1"}), doctest::Contains("unknown flag --micro_batch"), ConfigError);
}

TEST_CASE("a flag of another command names the commands that take it") {
  CHECK_THROWS_WITH_AS(sft({"--to_hf", "true"}), "--to_hf is not a flag of megatron sft; it is taken by swift export",
                       ConfigError);
  CHECK_THROWS_WITH_AS(parse_command_line(Command::infer, {"--save", "x"}),
                       "--save is not a flag of swift infer; it is taken by megatron pt, megatron sft", ConfigError);
  CHECK_THROWS_WITH_AS(parse_command_line(Command::export_model, {"--save_steps", "5"}),
                       doctest::Contains("taken by megatron pt, megatron sft"), ConfigError);
}

TEST_CASE("a bad choice names the flag, the value and the choices") {
  CHECK_THROWS_WITH_AS(sft({"--recompute_granularity", "partial"}),
                       "--recompute_granularity: 'partial' is not one of full, selective", ConfigError);
  CHECK_THROWS_WITH_AS(sft({"--torch_dtype", "bf16"}), "--torch_dtype: 'bf16' is not one of bfloat16, float16, float32",
                       ConfigError);
}

TEST_CASE("a bad number names the flag, the value and the accepted range") {
  CHECK_THROWS_WITH_AS(sft({"--train_iters", "many"}), "--train_iters: 'many' is not an integer >= 1", ConfigError);
  CHECK_THROWS_WITH_AS(sft({"--train_iters", "1.5"}), "--train_iters: '1.5' is not an integer >= 1", ConfigError);
  CHECK_THROWS_WITH_AS(sft({"--micro_batch_size", "0"}),
                       "--micro_batch_size: '0' is out of range; it accepts an integer >= 1", ConfigError);
  CHECK_THROWS_WITH_AS(sft({"--lr", "fast"}), "--lr: 'fast' is not a number >= 0.0", ConfigError);
  CHECK_THROWS_WITH_AS(sft({"--adam_beta2", "1.5"}), "--adam_beta2: '1.5' is out of range; it accepts a number in [0.0, 1.0]",
                       ConfigError);
  CHECK_THROWS_WITH_AS(sft({"--lr", "nan"}), doctest::Contains("'nan' is not a number"), ConfigError);
  CHECK_THROWS_WITH_AS(sft({"--lr"}), "--lr needs a value: a number >= 0.0", ConfigError);
}

TEST_CASE("a value that starts with a dash is a value, not a flag") {
  CHECK(sft({"--seed", "-1"}).at("seed") == -1);
  CHECK(sft({"--system", "-x be brief"}).at("system") == "-x be brief");
  CHECK(sft({"--dataset", "-a", "-b"}).at("dataset") == json::array({"-a", "-b"}));
}

TEST_CASE("string flags take one value and a value needs a flag") {
  CHECK_THROWS_WITH_AS(sft({"--system", "You", "are"}),
                       "--system takes one value but got 2: You are (quote a value that contains spaces)", ConfigError);
  CHECK_THROWS_WITH_AS(sft({"stray", "--lr", "1"}),
                       "unexpected argument 'stray' for megatron sft: every value follows its --flag (e.g. --dataset a b)",
                       ConfigError);
  CHECK_THROWS_WITH_AS(sft({"--model_name", "a", "b", "c"}),
                       "--model_name takes at most 2 values but got 3: a b c", ConfigError);
}

TEST_CASE("JSON flags parse to objects, with a clear error for bad JSON") {
  const auto args = sft({"--rope_scaling", R"({"rope_type": "llama3", "factor": 8.0})", "--columns", R"({"q": "query"})"});
  CHECK(args.at("rope_scaling") == json{{"rope_type", "llama3"}, {"factor", 8.0}});
  CHECK(args.at("columns") == json{{"q", "query"}});
  CHECK_THROWS_WITH_AS(sft({"--rope_scaling", "{factor: 8}"}), doctest::Contains("--rope_scaling: '{factor: 8}' is not valid JSON (parse error at line 1, column 4"),
                       ConfigError);
  CHECK_THROWS_WITH_AS(sft({"--columns", "[1, 2]"}), doctest::Contains("--columns: '[1, 2]' is JSON but not an object"),
                       ConfigError);
}

TEST_CASE("aliases store under the canonical name") {
  const auto args = sft({"--save_steps", "50", "--mcore_model", "ckpt", "--output_dir", "out", "--dataloader_num_workers", "2"});
  CHECK(args.at("save_interval") == 50);
  CHECK(args.at("load") == "ckpt");
  CHECK(args.at("save") == "out");
  CHECK(args.at("num_workers") == 2);
  CHECK(args.was_given("save_interval"));
  CHECK_FALSE(args.values.contains("save_steps"));
  // swift export's --output_dir is its own option.
  CHECK(parse_command_line(Command::export_model, {"--output_dir", "x"}).at("output_dir") == "x");
}

TEST_CASE("-h and --help are reported instead of parsed") {
  const auto args = sft({"--lrr", "x", "-h"});
  CHECK(args.help_requested);
  CHECK(args.at("lr") == 1e-5);
  CHECK(parse_command_line(Command::infer, {"--help"}).help_requested);
  CHECK_FALSE(sft({}).help_requested);
}

TEST_CASE("choice synonyms and plugin names") {
  CHECK(sft({"--logging_level", "INFO"}).at("logging_level") == "info");
  CHECK(sft({"--logging_level", "30"}).at("logging_level") == "warning");
  CHECK_THROWS_WITH_AS(sft({"--logging_level", "loud"}), doctest::Contains("is not one of trace, debug, info"), ConfigError);
  // Options that pick a plugin take any name: only the loaded plugins know the full list.
  CHECK(sft({"--optimizer", "my_lion"}).at("optimizer") == "my_lion");
}
