// libmegaswift_runtime.so from the build tree, through its public headers only (this file compiles as C++17):
// plugins found beside the library, the byte-level tokenizer fixture, templates, and every fixture model's loss and
// gradients against the HF transformers references stored beside it (read with a reader of our own, not the host's).
#include "safetensors_reader.hpp"
#include "test_paths.hpp"

#include <megaswift/runtime/model.hpp>
#include <megaswift/runtime/runtime.hpp>
#include <megaswift/runtime/template.hpp>
#include <megaswift/runtime/tokenizer.hpp>

#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <set>
#include <string>
#include <vector>

namespace fs = std::filesystem;
namespace rt = megaswift::runtime;
using megaswift::testing::read_safetensors;

namespace {

fs::path fixture_model(const std::string& name) {
  return megaswift::testing::source_dir() / "tests" / "fixtures" / "models" / name;
}
fs::path byte_tokenizer_dir() {
  return megaswift::testing::source_dir() / "tests" / "fixtures" / "tokenizers" / "byte_level";
}

// One Runtime for the suite: the plugins of the build tree, found as an embedding program finds them.
const rt::Runtime& runtime() {
  static const rt::Runtime r = [] {
    ::unsetenv("MEGASWIFT_PLUGIN_PATH");
    return rt::Runtime();
  }();
  return r;
}

rt::ModelOptions two_threads() {
  rt::ModelOptions o;
  o.num_threads = 2;
  return o;
}

std::vector<int32_t> bytes_of(const std::string& text) {
  std::vector<int32_t> out;
  for (unsigned char c : text) out.push_back(c);
  return out;
}

// Elements of every tensor in the directory's weights (one file or the shards of an index).
int64_t stored_parameter_count(const fs::path& dir) {
  int64_t total = 0;
  for (const auto& entry : fs::directory_iterator(dir)) {
    const std::string name = entry.path().filename().string();
    if (name.rfind("model", 0) != 0 || entry.path().extension() != ".safetensors") continue;
    for (const auto& [tensor, t] : read_safetensors(entry.path())) total += t.numel();
  }
  return total;
}

}  // namespace

TEST_CASE("the runtime finds the plugins beside libmegaswift_runtime.so, not beside the executable") {
  const fs::path expected = fs::canonical(megaswift::testing::plugin_dir());
  CHECK(fs::path(rt::Runtime::default_plugin_directory()) == expected);
  const auto path = runtime().search_path();
  REQUIRE_FALSE(path.empty());
  CHECK(fs::path(path.back()) == expected);
  CHECK(runtime().refused().empty());

  std::set<std::string> found;
  for (const auto& c : runtime().components()) found.insert(c.kind + "/" + c.name);
  CHECK(found.count("model/qwen2"));
  CHECK(found.count("model/llama"));
  CHECK(found.count("tokenizer/hf_bpe"));
  CHECK(found.count("template/qwen2_5"));
  for (const auto& c : runtime().components("model")) CHECK(c.kind == "model");
  CHECK(rt::Runtime::version() == MSW_PROJECT_VERSION);
}

TEST_CASE("a plugin_path entry that does not exist is an Error naming it") {
  rt::RuntimeOptions options;
  options.plugin_path = {"/no/such/megaswift/plugins"};
  CHECK_THROWS_WITH_AS(rt::Runtime{options}, doctest::Contains("/no/such/megaswift/plugins"), rt::Error);
  options.plugin_path.clear();
  options.log_level = "loud";
  CHECK_THROWS_WITH_AS(rt::Runtime{options}, doctest::Contains("log_level"), rt::Error);
}

TEST_CASE("the byte-level tokenizer fixture: ids are the UTF-8 bytes, decode gives the text back") {
  rt::Tokenizer tokenizer(runtime(), byte_tokenizer_dir());
  CHECK(tokenizer.plugin_name() == "hf_bpe");
  CHECK(tokenizer.vocab_size() == 256);
  const std::string text = "Hello, w\xC3\xB6rld!\n  tabs\tand 123";
  const std::vector<int32_t> ids = tokenizer.encode(text);
  CHECK(ids == bytes_of(text));
  CHECK(tokenizer.decode(ids) == text);
  CHECK(tokenizer.bos_id() == std::optional<int32_t>(1));
  CHECK(tokenizer.eos_id() == std::optional<int32_t>(2));
  CHECK_FALSE(tokenizer.pad_id().has_value());
  CHECK(tokenizer.token_to_id("H") == std::optional<int32_t>('H'));
  CHECK(tokenizer.id_to_token(' ') == std::optional<std::string>("\xC4\xA0"));  // GPT-2's symbol for a space
  CHECK_FALSE(tokenizer.token_to_id("no such token").has_value());
}

TEST_CASE("a directory no tokenizer plugin reads is an Error with each plugin's reason") {
  CHECK_THROWS_WITH_AS(rt::Tokenizer(runtime(), fixture_model("qwen2")), doctest::Contains("tokenizer.json"),
                       rt::Error);
  CHECK_THROWS_WITH_AS(rt::Tokenizer(runtime(), fixture_model("qwen2")), doctest::Contains("hf_bpe"), rt::Error);
  CHECK_THROWS_WITH_AS(rt::Tokenizer(runtime(), "/no/such/model"), doctest::Contains("not a directory"), rt::Error);
}

TEST_CASE("shift_labels turns HF-style labels into next-token targets per row") {
  const std::vector<int32_t> labels = {5, 6, 7, -100, 9, 10};
  CHECK(rt::shift_labels(labels) == std::vector<int64_t>{6, 7, -100, 9, 10, -100});
  CHECK(rt::shift_labels(labels, 2) == std::vector<int64_t>{6, 7, -100, 9, 10, -100});
  CHECK(rt::shift_labels(labels, 3) == std::vector<int64_t>{6, -100, -100, -100, 10, -100});
  CHECK(rt::as_int64(labels) == std::vector<int64_t>{5, 6, 7, -100, 9, 10});
}

TEST_CASE("every fixture model's loss through the runtime equals HF transformers' on its reference batch") {
  for (const std::string name : {"qwen2", "qwen2_5_tied", "llama3_1", "qwen3", "mistral"}) {
    CAPTURE(name);
    const fs::path dir = fixture_model(name);
    rt::Model model(runtime(), dir, two_threads());
    const auto ref = read_safetensors(dir / "reference.safetensors");
    const auto& ids = ref.at("input_ids");
    REQUIRE(ids.dtype == "I64");
    REQUIRE(ids.shape.size() == 2);
    const double hf_loss = ref.at("loss").values<float>().at(0);
    const rt::Loss loss = model.forward(ids.values<int64_t>(), ref.at("labels").values<int64_t>(), ids.shape[0]);

    int64_t counted = 0;
    for (int64_t l : ref.at("labels").values<int64_t>()) counted += l != rt::kIgnoreIndex;
    CHECK(loss.token_count == counted);
    MESSAGE(name << ": loss " << loss.mean() << " vs transformers " << hf_loss);
    CHECK(std::abs(loss.mean() - hf_loss) <= 1e-5 * std::abs(hf_loss));
    CHECK(model.num_parameters() == stored_parameter_count(dir));
    CHECK(model.vocab_size() == 256);
  }
}

TEST_CASE("forward_backward through the runtime gives HF's gradients, accumulated until zero_grads") {
  const fs::path dir = fixture_model("qwen2");
  rt::Model model(runtime(), dir, two_threads());
  CHECK(model.plugin_name() == "qwen2");
  const auto ref = read_safetensors(dir / "reference.safetensors");
  const auto ids = ref.at("input_ids").values<int64_t>();
  const auto labels = ref.at("labels").values<int64_t>();
  const int64_t rows = ref.at("input_ids").shape[0];
  const rt::Loss loss = model.forward_backward(ids, labels, rows);
  CHECK(std::abs(loss.mean() - ref.at("loss").values<float>().at(0)) <= 1e-5 * loss.mean());

  const auto grads = read_safetensors(dir / "grads.safetensors");
  auto relative_error = [&](double scale) {
    double worst = 0;
    size_t seen = 0;
    for (const auto& [name, ours] : model.gradients()) {
      REQUIRE_MESSAGE(grads.count(name), name);
      const auto theirs = grads.at(name).values<float>();
      REQUIRE(theirs.size() == ours.size());
      double num = 0, den = 0;
      for (size_t i = 0; i < ours.size(); ++i) {
        const double d = ours[i] - scale * theirs[i];
        num += d * d;
        den += scale * scale * double(theirs[i]) * theirs[i];
      }
      worst = std::max(worst, std::sqrt(num / den));
      ++seen;
    }
    CHECK(seen == grads.size());
    return worst;
  };
  CHECK(relative_error(1.0) < 1e-4);
  model.forward_backward(ids, labels, rows);
  CHECK(relative_error(2.0) < 1e-4);
  model.zero_grads();
  model.forward_backward(ids, labels, rows);
  CHECK(relative_error(1.0) < 1e-4);
}

TEST_CASE("bad batches and model directories are Errors that say what is wrong") {
  rt::Model model(runtime(), fixture_model("qwen2"), two_threads());
  const std::vector<int64_t> ids = {1, 2, 3, 4};
  CHECK_THROWS_WITH_AS(model.forward(ids, {2, 3, 4}), doctest::Contains("3 labels for 4 input ids"), rt::Error);
  CHECK_THROWS_WITH_AS(model.forward(ids, rt::shift_labels(ids), 3), doctest::Contains("rows of equal length"),
                       rt::Error);
  CHECK_THROWS_WITH_AS(model.forward({1, 256}, {2, -100}), doctest::Contains("outside the model's vocabulary"),
                       rt::Error);
  CHECK_THROWS_WITH_AS(model.forward({1, 2}, {300, -100}), doctest::Contains("labels[0] = 300"), rt::Error);
  CHECK_THROWS_WITH_AS(rt::Model(runtime(), "/no/such/model"), doctest::Contains("/no/such/model"), rt::Error);
  CHECK_THROWS_WITH_AS(rt::Model(runtime(), byte_tokenizer_dir()), doctest::Contains("config.json"), rt::Error);
}

TEST_CASE("templates encode conversations through the tokenizer, with ms-swift's labels") {
  rt::Tokenizer tokenizer(runtime(), byte_tokenizer_dir());

  // Pre-training text: [bos] text [eos], every token trained.
  const rt::Template generative(runtime(), "generative");
  CHECK(generative.name() == "generative");
  const rt::EncodedConversation pt = generative.encode_json(tokenizer, R"({"text": "hi"})");
  CHECK(pt.input_ids == std::vector<int32_t>{1, 'h', 'i', 2});
  CHECK(pt.labels == std::vector<int32_t>{-100, 'h', 'i', 2});

  // A chat template needs its special tokens, which a byte-level vocabulary lacks: an Error that says so.
  const rt::Template qwen(runtime(), "qwen2_5");
  const std::vector<rt::Message> chat = {{"user", "Hi"}, {"assistant", "Hello"}};
  CHECK_THROWS_AS(qwen.encode(tokenizer, chat), rt::Error);
  CHECK_THROWS_WITH_AS(rt::Template(runtime(), "no_such_template"), doctest::Contains("qwen2_5"), rt::Error);
}
