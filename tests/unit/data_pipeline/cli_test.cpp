// `megatron sft/pt` as a user runs them: with a local model directory the data is prepared for real and summarized
// before the model is built; a model that is not a local directory is refused before anything is read.
#include "pipeline_fixture.hpp"

#include "run_command.hpp"
#include "test_paths.hpp"

#include <doctest/doctest.h>

#include <string>

namespace {

constexpr int kFailed = 1;

megaswift::testing::CommandResult megatron(const std::string& args) {
  return megaswift::testing::run_command("cd '" + megaswift::test::scratch_dir().string() + "' && '" +
                                         (megaswift::testing::binary_dir() / "bin" / "megatron").string() + "' " +
                                         args);
}

bool contains(const std::string& haystack, const std::string& needle) {
  return haystack.find(needle) != std::string::npos;
}

}  // namespace

TEST_CASE("megatron sft with a local model directory logs the data summary before it builds the model") {
  auto r = megatron("sft --model '" + megaswift::test::qwen_model_dir().string() +
                    "' --dataset 'swift/self-cognition#30' 'megaswift/alpaca-mini-en#20' --train_iters 10 "
                    "--max_length 2048 --dataset_num_proc 2 --model_author swift --model_name swift-robot");
  INFO(r.output);
  CHECK(contains(r.output, "tokenizing train: 48/48"));
  CHECK(contains(r.output, "data: template 'qwen2_5'"));
  CHECK(contains(r.output, "data: train: 48 rows -> 48 samples"));
  CHECK(contains(r.output, "data: val: 2 rows -> 2 samples"));
  // This directory's config.json has no model sizes: the model is refused after the data summary, naming the field.
  CHECK(r.status != 0);
  CHECK(contains(r.output, "config.json is missing the field \"num_hidden_layers\""));
}

TEST_CASE("megatron sft with a hub id says Megaswift does not download models, before reading any data") {
  auto r = megatron("sft --model Qwen/Qwen2.5-7B-Instruct --dataset 'swift/self-cognition#5' --train_iters 10");
  INFO(r.output);
  CHECK(r.status == kFailed);
  CHECK(contains(r.output, "--model Qwen/Qwen2.5-7B-Instruct is not a local directory; Megaswift does not download"));
  CHECK_FALSE(contains(r.output, "tokenizing"));
}

TEST_CASE("megatron pt with a local directory that no tokenizer plugin reads fails naming the fix") {
  auto dir = megaswift::test::make_model_dir("cli-no-tokenizer", {{"model_type", "qwen2"}}, false);
  auto r = megatron("pt --model '" + dir.string() + "' --dataset megaswift/pt-corpus --train_iters 10");
  INFO(r.output);
  CHECK(r.status == kFailed);
  CHECK(contains(r.output, "no tokenizer plugin reads the model directory"));
  CHECK(contains(r.output, "hf_bpe 0"));
  CHECK(contains(r.output, "Megaswift does not download models; pass a local directory"));
}
