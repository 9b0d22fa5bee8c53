// hf_bpe loaded as the host loads it (PluginRegistry, then the tokenizer vtable), against the real
// Qwen and Llama 3 tokenizers: ids equal @lenml/tokenizers' on the CI corpus, decode inverts
// encode, batch and stream decoding agree, and the special tokens are the models' own.
// The fixture test (prepare_ci.sh) fetches the tokenizers with npm and writes the reference ids.
#include "../../bench/tokenize/corpus_file.hpp"

#include "host/core/host_api.hpp"
#include "host/plugin_host/registry.hpp"

#include <megaswift/sdk/tokenizer.hpp>

#include <doctest/doctest.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <map>
#include <memory>
#include <string>

namespace fs = std::filesystem;
using megaswift::sdk::TokenizerHandle;
using Ids = std::vector<int32_t>;

namespace {

fs::path fixtures() {
  const char* dir = std::getenv("MSW_TOKENIZER_FIXTURES");
  REQUIRE_MESSAGE(dir != nullptr, "MSW_TOKENIZER_FIXTURES is not set: run these tests through ctest");
  fs::path p(dir);
  REQUIRE_MESSAGE(fs::exists(p / "ci_ref_llama3.txt"),
                  "the tokenizer fixtures are missing in " << p.string()
                      << ": the fixture test (tests/fixtures/tokenizers/prepare_ci.sh) failed, see its output");
  return p;
}

const msw_tokenizer_vtable& plugin() {
  static const msw_tokenizer_vtable vt = [] {
    static megaswift::host::PluginRegistry registry(megaswift::host::host_api());
    registry.load_library(fs::path(MSW_PLUGIN_BUILD_DIR) / "libmegaswift_tokenizer_hf_bpe.so");
    const auto& c = registry.require(MSW_KIND_TOKENIZER, "hf_bpe");
    return megaswift::host::PluginRegistry::vtable_copy<msw_tokenizer_vtable>(c);
  }();
  return vt;
}

const TokenizerHandle& tokenizer(const std::string& model) {
  static std::map<std::string, std::unique_ptr<TokenizerHandle>> cache;
  auto& slot = cache[model];
  if (!slot) {
    std::string dir = (fixtures() / "cache" / model / "package" / "models").string();
    slot = std::make_unique<TokenizerHandle>(plugin(), megaswift::host::host_api(),
                                             "{\"model_dir\": \"" + dir + "\"}");
  }
  return *slot;
}

void check_corpus_against_reference(const std::string& model) {
  const TokenizerHandle& tok = tokenizer(model);
  auto docs = msw_tokenize_corpus::read_corpus((fixtures() / "ci_corpus.bin").string());
  auto ref = msw_tokenize_corpus::read_id_lines((fixtures() / ("ci_ref_" + model + ".txt")).string());
  REQUIRE(ref.size() == docs.size());
  size_t different = 0;
  for (size_t i = 0; i < docs.size(); ++i) {
    Ids ids = tok.encode(docs[i]);
    if (ids != ref[i]) {
      ++different;
      size_t k = 0;
      while (k < ids.size() && k < ref[i].size() && ids[k] == ref[i][k]) ++k;
      INFO("document " << i << " first differs at token " << k);
      CHECK(ids == ref[i]);
    }
  }
  CHECK(different == 0);
}

// Well-formed UTF-8 (Unicode table 3-7), written out here so the test does not trust the plugin's.
bool well_formed(const std::string& s) {
  size_t i = 0;
  auto in = [&](size_t k, unsigned lo, unsigned hi) {
    return i + k < s.size() && static_cast<unsigned char>(s[i + k]) >= lo && static_cast<unsigned char>(s[i + k]) <= hi;
  };
  while (i < s.size()) {
    unsigned b = static_cast<unsigned char>(s[i]);
    size_t n = b < 0x80 ? 1 : b >= 0xC2 && b <= 0xDF ? 2 : b >= 0xE0 && b <= 0xEF ? 3 : b >= 0xF0 && b <= 0xF4 ? 4 : 0;
    if (!n) return false;
    unsigned lo = b == 0xE0 ? 0xA0 : b == 0xF0 ? 0x90 : 0x80, hi = b == 0xED ? 0x9F : b == 0xF4 ? 0x8F : 0xBF;
    if (n > 1 && !in(1, lo, hi)) return false;
    for (size_t k = 2; k < n; ++k)
      if (!in(k, 0x80, 0xBF)) return false;
    i += n;
  }
  return true;
}

}  // namespace

TEST_CASE("Qwen token ids equal @lenml/tokenizers' on the CI corpus") { check_corpus_against_reference("qwen3"); }

TEST_CASE("Llama 3 token ids equal @lenml/tokenizers' on the CI corpus") { check_corpus_against_reference("llama3"); }

TEST_CASE("decode(encode(x)) gives x back for Llama 3 (no normalizer), with invalid UTF-8 as U+FFFD") {
  const TokenizerHandle& tok = tokenizer("llama3");
  auto docs = msw_tokenize_corpus::read_corpus((fixtures() / "ci_corpus.bin").string());
  size_t repaired = 0;
  for (const auto& d : docs) {
    std::string back = tok.decode(tok.encode(d));
    if (back != d) {
      ++repaired;
      // Only invalid UTF-8 may change, into U+FFFD: the same length or longer, never shorter text.
      CHECK(back.find("\xEF\xBF\xBD") != std::string::npos);
    }
  }
  CHECK(repaired > 0);  // the corpus does contain invalid bytes
  CHECK(tok.decode(tok.encode("caf\xC3\xA9 \xFF!")) == "caf\xC3\xA9 \xEF\xBF\xBD!");
}

TEST_CASE("decode(encode(x)) gives x back for Qwen on NFC text, special tokens included") {
  const TokenizerHandle& tok = tokenizer("qwen3");
  std::string text = "<|im_start|>user\n你好，世界! It's   spaced\t\ttabs 12345678901234567890 👨‍👩‍👧 <think>x</think><|im_end|>";
  CHECK(tok.decode(tok.encode(text)) == text);
  // NFC is applied: "e" + U+0301 comes back composed, as HF tokenizers gives it.
  CHECK(tok.decode(tok.encode("e\xCC\x81")) == "\xC3\xA9");
}

TEST_CASE("batch encoding on 4 threads gives the same ids as encode") {
  const TokenizerHandle& tok = tokenizer("qwen3");
  auto docs = msw_tokenize_corpus::read_corpus((fixtures() / "ci_corpus.bin").string());
  std::vector<std::string_view> views(docs.begin(), docs.end());
  auto batch = tok.encode_batch(views, 4);
  REQUIRE(batch.size() == docs.size());
  for (size_t i = 0; i < docs.size(); ++i) CHECK(batch[i] == tok.encode(docs[i]));
}

TEST_CASE("stream decoding emits only whole characters and adds up to decode") {
  for (const char* model : {"qwen3", "llama3"}) {
    const TokenizerHandle& tok = tokenizer(model);
    auto docs = msw_tokenize_corpus::read_corpus((fixtures() / "ci_corpus.bin").string());
    for (size_t i = 0; i < docs.size(); i += 5) {
      Ids ids = tok.encode(docs[i]);
      auto stream = tok.stream(MSW_TOKENIZER_SKIP_SPECIAL_TOKENS);
      std::string streamed;
      for (int32_t id : ids) {
        std::string piece = stream.step(id);
        CHECK(well_formed(piece));  // whole characters only
        streamed += piece;
      }
      streamed += stream.flush();
      CHECK(streamed == tok.decode(ids, MSW_TOKENIZER_SKIP_SPECIAL_TOKENS));
    }
  }
}

TEST_CASE("Qwen's special tokens, vocabulary size and known ids") {
  const TokenizerHandle& tok = tokenizer("qwen3");
  CHECK(tok.vocab_size() == 151669);
  CHECK(tok.special_token_id(MSW_TOKENIZER_EOS) == 151645);  // <|im_end|>
  CHECK(tok.special_token_id(MSW_TOKENIZER_PAD) == 151643);  // <|endoftext|>
  CHECK(tok.special_token_id(MSW_TOKENIZER_BOS) == -1);
  CHECK(tok.token_to_id("<|im_start|>") == 151644);
  CHECK(tok.token_to_id("<think>") == 151667);
  CHECK(tok.is_special(151645));
  CHECK_FALSE(tok.is_special(151667));  // <think> is an added token but not special
  std::string token;
  REQUIRE(tok.id_to_token(9707, token));
  CHECK(token == "Hello");
  CHECK(tok.encode("Hello world") == Ids{9707, 1879});
  CHECK(tok.encode("<|im_end|>") == Ids{151645});
  CHECK(tok.encode("<|im_end|>", MSW_TOKENIZER_SPLIT_SPECIAL_TOKENS).size() > 1);
}

TEST_CASE("Llama 3's special tokens, vocabulary size and known ids") {
  const TokenizerHandle& tok = tokenizer("llama3");
  CHECK(tok.vocab_size() == 128256);
  CHECK(tok.special_token_id(MSW_TOKENIZER_BOS) == 128000);  // <|begin_of_text|>
  CHECK(tok.special_token_id(MSW_TOKENIZER_EOS) == 128001);  // <|end_of_text|>
  CHECK(tok.token_to_id("<|eot_id|>") == 128009);
  CHECK(tok.encode("Hello world") == Ids{9906, 1917});
}

TEST_CASE("U+0085 is whitespace in the Qwen pattern, as in HF tokenizers (the JS reference differs)") {
  // HF tokenizers 0.23.2 gives "#include" as one token here (checked on the 5.5 MB corpus); a regex
  // \s without U+0085, as JavaScript's, glues the U+0085s to "#" instead.
  const TokenizerHandle& tok = tokenizer("qwen3");
  Ids ids = tok.encode(".\xC2\x85\xC2\x85\xC2\x85#include <vector>\n");
  int32_t include = tok.token_to_id("#include");
  REQUIRE(include >= 0);
  CHECK(std::find(ids.begin(), ids.end(), include) != ids.end());
}

TEST_CASE("a model directory without tokenizer.json is refused with its path") {
  CHECK_THROWS_WITH_AS(TokenizerHandle(plugin(), megaswift::host::host_api(), R"({"model_dir": "/no/such/model"})"),
                       doctest::Contains("/no/such/model/tokenizer.json"), std::exception);
}
