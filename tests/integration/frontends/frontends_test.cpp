// Runs bin/megatron and bin/swift with the seed document's quick-start command lines and with broken
// ones, and checks exit codes and messages.
#include "run_command.hpp"

#include <megaswift/c/abi.h>

#include <doctest/doctest.h>

#include <string>

namespace {

using Result = megaswift::testing::CommandResult;

// Runs bin/<program> from an empty directory, so nothing it writes lands in the build tree.
Result run(const std::string& program, const std::string& args) {
  return megaswift::testing::run_command(std::string("cd \"$(mktemp -d)\" && '") + MSW_BIN_DIR + "/" + program +
                                         "' " + args);
}

bool contains(const std::string& haystack, const std::string& needle) {
  return haystack.find(needle) != std::string::npos;
}

constexpr int kFailed = 1;
constexpr int kUsage = 2;
constexpr int kNotBuilt = 3;

}  // namespace

TEST_CASE("the quick start's HF-to-mcore export line parses and says a hub id is not a local model directory") {
  Result r = run("swift", "export --model Qwen/Qwen2.5-7B-Instruct --to_mcore true --torch_dtype bfloat16 "
                          "--test_convert_precision true --output_dir Qwen2.5-7B-Instruct-mcore");
  INFO(r.output);
  CHECK(r.status == kFailed);
  CHECK(contains(r.output, "--model Qwen/Qwen2.5-7B-Instruct is not a local directory"));
}

TEST_CASE("the quick start's megatron sft line parses and refuses tensor parallelism in one process, naming the flag") {
  Result r = run("megatron",
                 "sft --load Qwen2.5-7B-Instruct-mcore "
                 "--dataset 'AI-ModelScope/alpaca-gpt4-data-zh#500' 'AI-ModelScope/alpaca-gpt4-data-en#500' "
                 "'swift/self-cognition#500' --tensor_model_parallel_size 2 --micro_batch_size 4 "
                 "--global_batch_size 16 --recompute_granularity selective --train_iters 100 --eval_iters 5 "
                 "--finetune true --cross_entropy_loss_fusion true --lr 1e-5 --lr_warmup_iters 10 --min_lr 1e-6 "
                 "--save megatron_output/Qwen2.5-7B-Instruct --save_interval 100 --max_length 2048 "
                 "--system 'You are a helpful assistant.' --num_workers 4 --no_save_optim true --no_save_rng true "
                 "--dataset_num_proc 4 --model_author swift --model_name swift-robot");
  INFO(r.output);
  CHECK(r.status == kFailed);
  CHECK(contains(r.output, "--tensor_model_parallel_size 2: this build trains in one process"));
}

TEST_CASE("the quick start's mcore-to-HF export line parses and names the missing checkpoint directory") {
  Result r = run("swift", "export --mcore_model megatron_output/Qwen2.5-7B-Instruct/vx-xxx --to_hf true "
                          "--torch_dtype bfloat16 --test_convert_precision true "
                          "--output_dir megatron_output/Qwen2.5-7B-Instruct/vx-xxx-hf");
  INFO(r.output);
  CHECK(r.status == kFailed);
  CHECK(contains(r.output, "--mcore_model megatron_output/Qwen2.5-7B-Instruct/vx-xxx is not a directory"));
}

TEST_CASE("the quick start's swift infer line parses and names the model directory that is missing") {
  Result r = run("swift", "infer --model megatron_output/Qwen2.5-7B-Instruct/vx-xxx-hf --stream true "
                          "--temperature 0 --max_new_tokens 2048 < /dev/null");
  INFO(r.output);
  CHECK(r.status == kFailed);
  CHECK(contains(r.output, "--model megatron_output/Qwen2.5-7B-Instruct/vx-xxx-hf is not a local directory"));
}

TEST_CASE("an unknown flag exits with the usage code and names the closest known flag") {
  Result r = run("megatron", "sft --model m --micro_batch_sise 4");
  INFO(r.output);
  CHECK(r.status == kUsage);
  CHECK(contains(r.output, "micro_batch_sise"));
  CHECK(contains(r.output, "micro_batch_size"));
}

TEST_CASE("a bad choice exits with the usage code and lists the accepted values") {
  Result r = run("megatron", "pt --model m --recompute_granularity partial");
  INFO(r.output);
  CHECK(r.status == kUsage);
  CHECK(contains(r.output, "full"));
  CHECK(contains(r.output, "selective"));
}

TEST_CASE("megatron sft --help prints the flags with their defaults and exits 0") {
  Result r = run("megatron", "sft --help");
  INFO(r.output.substr(0, 2000));
  CHECK(r.status == 0);
  CHECK(contains(r.output, "--micro_batch_size"));
  CHECK(contains(r.output, "--recompute_granularity"));
}

TEST_CASE("an unknown subcommand exits with the usage code and lists the commands") {
  Result r = run("megatron", "train --lr 1");
  CHECK(r.status == kUsage);
  CHECK(contains(r.output, "unknown command 'train'"));
  CHECK(contains(r.output, "sft"));
}

TEST_CASE("megatron plugins lists the first-party components with kind, name, version and ABI") {
  Result r = run("megatron", "plugins");
  INFO(r.output);
  CHECK(r.status == 0);
  CHECK(contains(r.output, "KIND"));
  CHECK(contains(r.output, "ABI"));
  // The ABI column: the SDK a plugin was built with / the oldest host it runs on (its target minor).
  const std::string abi = std::to_string(MSW_ABI_MAJOR) + "." + std::to_string(MSW_ABI_MINOR) + "/" +
                          std::to_string(MSW_ABI_MAJOR) + ".0";
  CHECK(contains(r.output, "hf_bpe        0.1.0     " + abi));
  CHECK(contains(r.output, "this host: " + std::to_string(MSW_ABI_MAJOR) + "." + std::to_string(MSW_ABI_MINOR)));
}

TEST_CASE("megatron plugins --format json is valid JSON with a components array") {
  Result r = run("megatron", "plugins --format json");
  INFO(r.output);
  CHECK(r.status == 0);
  CHECK(contains(r.output, "\"components\""));
  CHECK(contains(r.output, "\"refused\""));
  CHECK(contains(r.output, "\"target_abi\": \"" + std::to_string(MSW_ABI_MAJOR) + ".0\""));
}
