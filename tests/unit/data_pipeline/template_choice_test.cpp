// Which template encodes the datasets, and what --model must be.
#include "pipeline_fixture.hpp"

#include "host/data/pipeline/error.hpp"
#include "host/data/pipeline/model_dir.hpp"
#include "host/data/pipeline/template_choice.hpp"
#include "host/data/pipeline/training_data.hpp"

#include <doctest/doctest.h>

#include <optional>
#include <string>

using namespace megaswift;
using config::Command;

namespace {

data::ModelDirectory model(const std::string& path, const std::string& model_type) {
  data::ModelDirectory m;
  m.dir = path;
  m.model_type = model_type;
  return m;
}

std::string pick(const std::string& path, const std::string& model_type, Command command = Command::sft,
                 std::optional<std::string> flag = std::nullopt) {
  return data::choose_template(command, flag, model(path, model_type)).name;
}

}  // namespace

TEST_CASE("the model directory's name picks the template ms-swift registers for that model") {
  CHECK(pick("/models/Qwen2.5-7B-Instruct", "qwen2") == "qwen2_5");
  CHECK(pick("/models/Qwen2.5-0.5B/", "qwen2") == "qwen2_5");
  CHECK(pick("/models/Qwen2-7B-Instruct", "qwen2") == "qwen");
  CHECK(pick("/models/Qwen2-57B-A14B-Instruct", "qwen2_moe") == "qwen");
  CHECK(pick("/models/Qwen3-8B", "qwen3") == "qwen3");
  CHECK(pick("/models/Meta-Llama-3-8B-Instruct", "llama") == "llama3");
  CHECK(pick("/models/Meta-Llama-3.1-8B-Instruct", "llama") == "llama3");
}

TEST_CASE("config.json's model_type picks the template when the directory name says nothing") {
  CHECK(pick("/models/my-finetune", "qwen2") == "qwen2_5");
  CHECK(pick("/models/my-finetune", "qwen2_moe") == "qwen");
  CHECK(pick("/models/my-finetune", "qwen3_moe") == "qwen3");
  CHECK(pick("/models/my-finetune", "llama") == "llama3");
  // A Qwen name does not override another family's model_type.
  CHECK(pick("/models/qwen2.5-distilled-into-llama", "llama") == "llama3");
}

TEST_CASE("--template wins for sft and megatron pt always uses the generative template") {
  CHECK(pick("/models/Qwen2.5-7B-Instruct", "qwen2", Command::sft, "default") == "default");
  CHECK(pick("/models/Qwen2.5-7B-Instruct", "qwen2", Command::pt) == "generative");
  CHECK(pick("/models/Qwen2.5-7B-Instruct", "qwen2", Command::pt, "qwen2_5") == "generative");
}

TEST_CASE("an unknown model_type without --template is an error that asks for --template") {
  try {
    pick("/models/phi-2", "phi");
    FAIL("expected DataPipelineError");
  } catch (const data::DataPipelineError& e) {
    CHECK(std::string(e.what()).find("model_type 'phi'") != std::string::npos);
    CHECK(std::string(e.what()).find("--template") != std::string::npos);
  }
  CHECK_THROWS_WITH_AS(pick("/models/mystery", ""), doctest::Contains("--template"), data::DataPipelineError);
}

TEST_CASE("a model directory no tokenizer plugin reads is an error naming the directory, its files and the plugins") {
  auto dir = test::make_model_dir("no-tokenizer", {{"model_type", "qwen2"}}, /*with_tokenizer=*/false);
  CHECK(data::open_model_directory(dir.string()).model_type == "qwen2");  // the directory itself is fine
  auto args = test::parse_args(Command::sft, {"--model", dir.string(), "--dataset", "swift/self-cognition#5"});
  try {
    data::build_training_data(args, test::plugins());
    FAIL("expected DataPipelineError");
  } catch (const data::DataPipelineError& e) {
    const std::string m = e.what();
    INFO(m);
    CHECK(m.find("no tokenizer plugin reads the model directory " + dir.string()) != std::string::npos);
    CHECK(m.find("no tokenizer files") != std::string::npos);
    CHECK(m.find("tokenizer plugins loaded: hf_bpe 0") != std::string::npos);
    CHECK(m.find("Megaswift does not download models; pass a local directory") != std::string::npos);
  }
}

TEST_CASE("the tokenizer is the plugin the registry chooses for the model directory") {
  auto args = test::parse_args(Command::sft, {"--model", test::qwen_model_dir().string(), "--dataset",
                                              "swift/self-cognition#5", "--split_dataset_ratio", "0"});
  auto d = data::build_training_data(args, test::plugins());
  CHECK(d.encoding->tokenizer_name() == "hf_bpe");
  CHECK(d.summary.tokenizer_name == "hf_bpe");
  CHECK(data::to_json(d.summary)["tokenizer"] == "hf_bpe");
}

TEST_CASE("a hub id that is not a local directory is an error that says models are not downloaded") {
  CHECK_FALSE(data::is_local_directory("Qwen/Qwen2.5-7B-Instruct-not-here"));
  CHECK_THROWS_WITH_AS(data::open_model_directory("Qwen/Qwen2.5-7B-Instruct-not-here"),
                       doctest::Contains("Megaswift does not download models; pass a local directory"),
                       data::DataPipelineError);
}

TEST_CASE("max_model_len is the smallest length key of config.json, as ms-swift reads it") {
  auto dir = test::make_model_dir("lengths", {{"model_type", "qwen2"}, {"max_position_embeddings", 4096},
                                              {"seq_length", 2048}, {"hidden_size", 8}});
  data::ModelDirectory m = data::open_model_directory(dir.string());
  CHECK(m.model_type == "qwen2");
  REQUIRE(m.max_model_len.has_value());
  CHECK(*m.max_model_len == 2048);
  CHECK(m.name() == "lengths");
  CHECK(data::open_model_directory(dir.string() + "/").name() == "lengths");
}
