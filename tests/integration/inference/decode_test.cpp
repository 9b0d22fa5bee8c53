// KV-cache decoding on the tiny fixture models of every architecture (tests/fixtures/models): greedy generation
// through the plugins' layer_decode equals the whole-sequence forward token for token (and logit for logit),
// equals transformers' generate (tests/fixtures/inference/make_generate_fixtures.py, with and without HF's
// cache), and continuous batching of ragged prompts gives every prompt the tokens it gets alone.
#include "host/core/host_api.hpp"
#include "host/data/pipeline/encoding.hpp"
#include "host/core/status.hpp"
#include "host/inference/full_sequence_decoder.hpp"
#include "host/inference/generator.hpp"
#include "host/inference/kv_decoder.hpp"
#include "host/model/model_runner.hpp"
#include "host/plugin_host/registry.hpp"
#include "fixture_models.hpp"
#include "test_paths.hpp"
#include "training_fixture.hpp"

#include <doctest/doctest.h>
#include <nlohmann/json.hpp>

#include <cmath>
#include <fstream>
#include <memory>

namespace fs = std::filesystem;
using namespace megaswift;
using nlohmann::json;

namespace {

// The fixture models the first-party plugins serve (gemma's plugin is the out-of-tree example, checked by the
// install-tree suite).
const char* const kModels[] = {"qwen2", "qwen2_5_tied", "llama3_1", "mistral", "qwen3"};

const host::PluginRegistry& registry() { return testing::plugins(); }

host::ModelRunner model(const std::string& name) {
  host::RunnerOptions o;
  o.num_threads = 2;
  return host::ModelRunner::from_hf_directory(registry(), testing::source_dir() / "tests/fixtures/models" / name, o);
}

inference::GenerationOptions greedy(int64_t n) {
  inference::GenerationOptions g;
  g.max_new_tokens = n;
  return g;
}

std::vector<int64_t> prompt_of(int64_t n, int64_t salt) {
  std::vector<int64_t> p;
  for (int64_t i = 0; i < n; ++i) p.push_back(3 + (i * 37 + salt * 11) % 250);
  return p;
}

double max_rel_diff(const std::vector<float>& a, const std::vector<float>& b) {
  double worst = 0, scale = 0;
  for (size_t i = 0; i < a.size(); ++i) scale = std::max(scale, std::abs(double(b[i])));
  for (size_t i = 0; i < a.size(); ++i) worst = std::max(worst, std::abs(double(a[i]) - b[i]) / scale);
  return worst;
}

}  // namespace

TEST_CASE("KV-cache decoding equals the whole-sequence forward on every fixture architecture") {
  for (const char* name : kModels) {
    CAPTURE(name);
    host::ModelRunner runner = model(name);
    const std::vector<int64_t> prompt = prompt_of(9, 1);
    inference::KvDecoder kv(runner, 1, 9 + 40);
    inference::FullSequenceDecoder full(runner, 1, 9 + 40);
    // The logits of the prefill and of ten single-token steps agree to float rounding.
    std::vector<std::vector<int64_t>> step = {prompt};
    for (int s = 0; s < 11; ++s) {
      const auto a = kv.append(step), b = full.append(step);
      REQUIRE(a[0].size() == static_cast<size_t>(runner.info().vocab_size));
      CHECK(max_rel_diff(a[0], b[0]) < 1e-5);
      step = {{3 + (s * 29) % 250}};
    }
    CHECK(kv.length(0) == 19);
    // Greedy generation: the same 40 tokens.
    kv.clear(0);
    full.clear(0);
    const auto with_cache = inference::generate(kv, {prompt}, greedy(40));
    const auto without = inference::generate(full, {prompt}, greedy(40));
    CHECK(with_cache[0].tokens == without[0].tokens);
    CHECK(with_cache[0].finish_reason == "length");
  }
}

TEST_CASE("continuous batching: ragged prompts over fewer rows get the tokens each gets alone") {
  host::ModelRunner runner = model("qwen2");
  const std::vector<std::vector<int64_t>> prompts = {prompt_of(5, 1), prompt_of(17, 2), prompt_of(1, 3), prompt_of(8, 4)};
  inference::KvDecoder two_rows(runner, 2, 17 + 24);
  const auto together = inference::generate(two_rows, prompts, greedy(24));
  REQUIRE(together.size() == prompts.size());
  for (size_t i = 0; i < prompts.size(); ++i) {
    CAPTURE(i);
    inference::KvDecoder alone(runner, 1, 17 + 24);
    CHECK(inference::generate(alone, {prompts[i]}, greedy(24))[0].tokens == together[i].tokens);
    CHECK(together[i].prompt_tokens == static_cast<int64_t>(prompts[i].size()));
  }
  // An eos ends an answer early and frees its row for the next prompt.
  inference::GenerationOptions stop_at = greedy(24);
  stop_at.eos_ids = {together[1].tokens[3]};
  inference::KvDecoder rows(runner, 2, 17 + 24);
  const auto stopped = inference::generate(rows, prompts, stop_at);
  CHECK(stopped[1].finish_reason == "stop");
  CHECK(stopped[1].tokens.size() <= 4);
  CHECK(stopped[1].tokens.back() == together[1].tokens[3]);
}

TEST_CASE("greedy generation equals transformers' generate on every fixture architecture") {
  const fs::path file = testing::source_dir() / "tests/fixtures/inference/generate_fixtures.json";
  REQUIRE_MESSAGE(fs::exists(file), "missing " << file << ": run tests/fixtures/inference/make_generate_fixtures.py");
  const json fx = json::parse(std::ifstream(file));
  INFO("reference: torch " << fx["versions"].value("torch", "?") << ", transformers "
                           << fx["versions"].value("transformers", "?"));
  for (const char* name : kModels) {
    CAPTURE(name);
    REQUIRE(fx["models"].contains(name));
    host::ModelRunner runner = model(name);
    for (const json& c : fx["models"][name]["cases"]) {
      const auto prompt = c["prompt"].get<std::vector<int64_t>>();
      const auto want = c["generated"].get<std::vector<int64_t>>();
      CAPTURE(prompt.size());
      inference::KvDecoder kv(runner, 1, static_cast<int64_t>(prompt.size() + want.size()));
      inference::FullSequenceDecoder full(runner, 1, static_cast<int64_t>(prompt.size() + want.size()));
      const auto got = inference::generate(kv, {prompt}, greedy(static_cast<int64_t>(want.size())))[0].tokens;
      const auto got_full = inference::generate(full, {prompt}, greedy(static_cast<int64_t>(want.size())))[0].tokens;
      size_t first = 0;
      while (first < want.size() && first < got.size() && got[first] == want[first]) ++first;
      INFO("first difference at step " << first << " (HF's top-1/top-2 margin there: "
                                       << (first < want.size() ? c["margins"][first].get<double>() : 0.0) << ")");
      CHECK(got == want);
      CHECK(got_full == want);
    }
  }
}

TEST_CASE("decoding refuses a cache past the model's positions and a prompt past the cache") {
  host::ModelRunner runner = model("qwen2");
  const int64_t max_pos = runner.info().max_position_embeddings;
  CHECK_THROWS_WITH(inference::KvDecoder(runner, 1, max_pos + 1),
                    doctest::Contains("more than the model's max_position_embeddings"));
  inference::KvDecoder kv(runner, 1, 16);
  CHECK_THROWS_WITH(inference::generate(kv, {prompt_of(10, 1)}, greedy(7)),
                    doctest::Contains("needs 17 positions, but the decoder holds 16 per row"));
  CHECK_THROWS_WITH(kv.append({prompt_of(17, 1)}), doctest::Contains("past the KV cache's capacity of 16"));
  CHECK_THROWS_WITH(inference::generate(kv, {{}}, greedy(4)), doctest::Contains("empty prompt"));
}

TEST_CASE("the quick start's tiny Qwen2 with the real Qwen tokenizer: greedy tokens and their text equal transformers'") {
  const fs::path file = testing::source_dir() / "tests/fixtures/inference/generate_fixtures.json";
  const json fx = json::parse(std::ifstream(file));
  REQUIRE(fx.contains("tiny_qwen2"));
  const json& t = fx["tiny_qwen2"];
  host::RunnerOptions o;
  o.num_threads = 2;
  host::ModelRunner runner = host::ModelRunner::from_hf_directory(registry(), megaswift::test::tiny_model(), o);
  const auto prompt = t["prompt"].get<std::vector<int64_t>>();
  const auto want = t["generated"].get<std::vector<int64_t>>();
  inference::KvDecoder kv(runner, 1, static_cast<int64_t>(prompt.size() + want.size()));
  inference::GenerationOptions g = greedy(static_cast<int64_t>(want.size()));
  g.eos_ids = {t["eos_token_id"].get<int64_t>()};
  const auto got = inference::generate(kv, {prompt}, g)[0].tokens;
  CHECK(got == want);
  // The text through our tokenizer's decode is transformers' decode of the same ids.
  const data::Encoding encoding(registry(), megaswift::test::tiny_model(), "qwen2_5", {});
  const std::vector<int32_t> ids(got.begin(), got.end());
  CHECK(encoding.tokenizer().decode(ids) == t["text"].get<std::string>());
}
