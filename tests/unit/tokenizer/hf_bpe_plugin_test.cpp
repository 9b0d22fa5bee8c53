// The hf_bpe plugin through the host's registry on small hand-written tokenizer.json files (no
// downloads): its probe and the registry's choice of a tokenizer for a model directory, the MSW buffer
// protocol of its entries, and TokenizerHandle keeping the plugin's status codes.
#include "tiny_tokenizer.hpp"

#include "host/core/host_api.hpp"
#include "host/core/status.hpp"
#include "host/plugin_host/registry.hpp"
#include "host/plugin_host/tokenizer_choice.hpp"

#include <megaswift/sdk/tokenizer.hpp>

#include <doctest/doctest.h>

#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

namespace fs = std::filesystem;
using megaswift::host::PluginRegistry;
using tiny::Json;
using Ids = std::vector<int32_t>;

namespace {

const PluginRegistry& registry() {
  static const PluginRegistry* r = [] {
    auto* reg = new PluginRegistry(megaswift::host::host_api());
    reg->load_library(fs::path(MSW_PLUGIN_BUILD_DIR) / "libmegaswift_tokenizer_hf_bpe.so");
    return reg;
  }();
  return *r;
}

msw_tokenizer_vtable hf_bpe_vtable() {
  return PluginRegistry::vtable_copy<msw_tokenizer_vtable>(registry().require(MSW_KIND_TOKENIZER, "hf_bpe"));
}

// A model directory holding `files` (name -> JSON).
fs::path model_dir(const std::string& name, const std::vector<std::pair<std::string, Json>>& files) {
  fs::path dir = tiny::temp_dir() / name;
  fs::remove_all(dir);
  fs::create_directories(dir);
  for (const auto& [file, json] : files) std::ofstream(dir / file) << json.dump(1);
  return dir;
}

Json byte_level_tokenizer() {
  return tiny::tokenizer_json(tiny::byte_level_model({{"h", "i"}, {" ", "t"}}),
                              Json::array({tiny::added_token(258, "<|end|>", true)}));
}

fs::path byte_level_dir() {
  static const fs::path dir =
      model_dir("byte_level", {{"tokenizer.json", byte_level_tokenizer()},
                               {"tokenizer_config.json", Json{{"eos_token", "<|end|>"}}}});
  return dir;
}

}  // namespace

TEST_CASE("hf_bpe's probe scores a BPE tokenizer.json it reads 100, a BPE part it lacks 10, anything else 0") {
  auto vt = hf_bpe_vtable();
  REQUIRE(static_cast<bool>(vt.probe));
  CHECK(vt.probe(byte_level_dir().c_str()) == 100);
  CHECK(vt.probe(model_dir("empty", {}).c_str()) == 0);
  Json word_piece = byte_level_tokenizer();
  word_piece["model"]["type"] = "WordPiece";
  CHECK(vt.probe(model_dir("wordpiece", {{"tokenizer.json", word_piece}}).c_str()) == 0);
  Json odd_normalizer = byte_level_tokenizer();
  odd_normalizer["normalizer"] = Json{{"type", "Precompiled"}, {"precompiled_charsmap", "AAAA"}};
  CHECK(vt.probe(model_dir("odd_normalizer", {{"tokenizer.json", odd_normalizer}}).c_str()) == 10);
  fs::path broken = model_dir("broken", {});
  std::ofstream(broken / "tokenizer.json") << "{not json";
  CHECK(vt.probe(broken.c_str()) == 0);
}

TEST_CASE("the registry chooses the tokenizer plugin for a model directory by probe, and explains a refusal") {
  auto choice = megaswift::host::choose_tokenizer(registry(), byte_level_dir());
  REQUIRE(choice.component != nullptr);
  CHECK(choice.component->name == "hf_bpe");
  CHECK(choice.score == 100);
  CHECK(choice.why.find("hf_bpe 100") != std::string::npos);

  fs::path spm = model_dir("sentencepiece", {{"tokenizer_config.json", Json::object()}});
  std::ofstream(spm / "tokenizer.model") << "not a tokenizer.json";
  try {
    megaswift::host::choose_tokenizer(registry(), spm);
    FAIL("a directory without tokenizer.json was accepted");
  } catch (const megaswift::host::HostError& e) {
    const std::string m = e.what();
    INFO(m);
    CHECK(e.code() == MSW_STATUS_NOT_FOUND);
    CHECK(m.find("no tokenizer plugin reads the model directory " + spm.string()) != std::string::npos);
    CHECK(m.find("tokenizer.model, tokenizer_config.json") != std::string::npos);
    CHECK(m.find("tokenizer plugins loaded: hf_bpe 0") != std::string::npos);
  }
}

TEST_CASE("encode reports the ids it needs and writes none into a buffer that is too small") {
  auto vt = hf_bpe_vtable();
  void* self = nullptr;
  const std::string config = Json{{"model_dir", byte_level_dir().string()}}.dump();
  REQUIRE(vt.create(config.c_str(), &self) == nullptr);
  const std::string text = "hi there";
  size_t needed = 0;
  REQUIRE(vt.encode(self, text.data(), text.size(), 0, nullptr, 0, &needed) == nullptr);
  REQUIRE(needed > 1);
  std::vector<int32_t> ids(needed - 1, -7);
  size_t again = 0;
  REQUIRE(vt.encode(self, text.data(), text.size(), 0, ids.data(), ids.size(), &again) == nullptr);
  CHECK(again == needed);
  CHECK(ids == std::vector<int32_t>(needed - 1, -7));  // nothing written
  ids.assign(needed, -7);
  REQUIRE(vt.encode(self, text.data(), text.size(), 0, ids.data(), ids.size(), &again) == nullptr);
  CHECK(ids[0] == vt.token_to_id(self, "hi", 2));

  // encode_batch: offsets and ids are written together, only when the total fits.
  const char* texts[2] = {"hi", " t"};
  size_t lens[2] = {2, 2};
  size_t offsets[3] = {9, 9, 9};
  int32_t one[1] = {-7};
  REQUIRE(vt.encode_batch(self, texts, lens, 2, 0, 1, one, 1, offsets, &needed) == nullptr);
  CHECK(needed == 2);
  CHECK(one[0] == -7);
  CHECK(offsets[0] == 9);
  int32_t two[2];
  REQUIRE(vt.encode_batch(self, texts, lens, 2, 0, 1, two, 2, offsets, &needed) == nullptr);
  CHECK(offsets[0] == 0);
  CHECK(offsets[1] == 1);
  CHECK(offsets[2] == 2);
  vt.destroy(self);
}

TEST_CASE("decode writes NUL-terminated text only when text and NUL fit, and counts the NUL") {
  auto vt = hf_bpe_vtable();
  void* self = nullptr;
  const std::string config = Json{{"model_dir", byte_level_dir().string()}}.dump();
  REQUIRE(vt.create(config.c_str(), &self) == nullptr);
  const int32_t hi = vt.token_to_id(self, "hi", 2);
  const Ids ids = {hi, hi};
  size_t needed = 0;
  REQUIRE(vt.decode(self, ids.data(), ids.size(), 0, nullptr, 0, &needed) == nullptr);
  CHECK(needed == 5);  // "hihi" and its NUL
  char text[5] = {'#', '#', '#', '#', '#'};
  REQUIRE(vt.decode(self, ids.data(), ids.size(), 0, text, 4, &needed) == nullptr);
  CHECK(std::string(text, 5) == "#####");
  REQUIRE(vt.decode(self, ids.data(), ids.size(), 0, text, 5, &needed) == nullptr);
  CHECK(std::string(text) == "hihi");
  // Empty output is one NUL.
  REQUIRE(vt.decode(self, nullptr, 0, 0, text, 5, &needed) == nullptr);
  CHECK(needed == 1);
  CHECK(text[0] == '\0');
  vt.destroy(self);
}

TEST_CASE("TokenizerHandle keeps the plugin's status code and hides the buffer protocol") {
  auto vt = hf_bpe_vtable();
  const std::string missing = Json{{"model_dir", (tiny::temp_dir() / "no_such_model").string()}}.dump();
  try {
    megaswift::sdk::TokenizerHandle handle(vt, megaswift::host::host_api(), missing);
    FAIL("a missing tokenizer.json was accepted");
  } catch (const megaswift::sdk::Error& e) {
    CHECK(e.code() == MSW_STATUS_NOT_FOUND);
    CHECK(std::string(e.what()).find("tokenizer.json") != std::string::npos);
  }
  try {
    megaswift::sdk::TokenizerHandle handle(vt, megaswift::host::host_api(), "{not json");
    FAIL("a malformed config was accepted");
  } catch (const megaswift::sdk::Error& e) {
    CHECK(e.code() == MSW_STATUS_INVALID_ARGUMENT);
  }

  megaswift::sdk::TokenizerHandle handle(vt, megaswift::host::host_api(),
                                         Json{{"model_dir", byte_level_dir().string()}}.dump());
  // Longer than the handle's first guesses, so the retry path runs.
  std::string long_text;
  for (int i = 0; i < 300; ++i) long_text += "\xE4\xB8\xAD";
  const Ids ids = handle.encode(long_text);
  CHECK(ids.size() == long_text.size());  // byte-level: one id per byte without merges
  CHECK(handle.decode(ids) == long_text);
  CHECK(handle.decode(ids).size() == long_text.size());  // no NUL inside the std::string
  auto batch = handle.encode_batch({"hi", long_text}, 2);
  CHECK(batch[1] == ids);
  CHECK(handle.special_token_id(MSW_TOKENIZER_EOS) == 258);
}
