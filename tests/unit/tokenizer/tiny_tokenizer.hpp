// Small hand-written tokenizer.json files for the unit tests, written to a temporary directory.
#pragma once

#include "byte_level.hpp"
#include "hf_tokenizer.hpp"
#include "scratch_dir.hpp"

#include <nlohmann/json.hpp>

#include <filesystem>
#include <fstream>
#include <memory>
#include <string>
#include <vector>

namespace tiny {

using Json = nlohmann::json;

inline std::filesystem::path temp_dir() { return megaswift::testing::scratch_dir("msw_tok_test"); }

inline std::string write(const std::string& name, const Json& j) {
  auto path = temp_dir() / name;
  std::ofstream(path) << j.dump(1);
  return path.string();
}

// A byte-level vocabulary: ids 0..255 are the single bytes, then `merges` ("a b" in raw bytes)
// add one token each, in order.
inline Json byte_level_model(const std::vector<std::pair<std::string, std::string>>& merges, bool ignore_merges = false) {
  Json vocab = Json::object();
  for (int b = 0; b < 256; ++b) vocab[hf_bpe::byte_level::to_mapped(std::string(1, static_cast<char>(b)))] = b;
  Json m = Json::array();
  int next = 256;
  for (const auto& [a, b] : merges) {
    std::string ma = hf_bpe::byte_level::to_mapped(a), mb = hf_bpe::byte_level::to_mapped(b);
    if (!vocab.contains(ma + mb)) vocab[ma + mb] = next++;
    m.push_back(Json::array({ma, mb}));
  }
  return Json{{"type", "BPE"}, {"dropout", nullptr}, {"unk_token", nullptr}, {"continuing_subword_prefix", nullptr},
              {"end_of_word_suffix", nullptr}, {"fuse_unk", false}, {"byte_fallback", false},
              {"ignore_merges", ignore_merges}, {"vocab", vocab}, {"merges", m}};
}

// Qwen2's pre-tokenizer: the Split regex then ByteLevel.
inline Json qwen_pre_tokenizer() {
  return Json::parse(R"({"type": "Sequence", "pretokenizers": [
    {"type": "Split", "pattern": {"Regex": "(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+"},
     "behavior": "Isolated", "invert": false},
    {"type": "ByteLevel", "add_prefix_space": false, "trim_offsets": false, "use_regex": false}]})");
}

inline Json tokenizer_json(Json model, Json added = Json::array(), Json normalizer = Json{{"type", "NFC"}},
                           Json pre = qwen_pre_tokenizer(), Json decoder = Json{{"type", "ByteLevel"}}) {
  return Json{{"version", "1.0"}, {"truncation", nullptr}, {"padding", nullptr}, {"added_tokens", added},
              {"normalizer", normalizer}, {"pre_tokenizer", pre}, {"post_processor", nullptr},
              {"decoder", decoder}, {"model", model}};
}

inline Json added_token(int id, const std::string& content, bool special, bool lstrip = false, bool rstrip = false,
                        bool single_word = false, bool normalized = false) {
  return Json{{"id", id}, {"content", content}, {"single_word", single_word}, {"lstrip", lstrip},
              {"rstrip", rstrip}, {"normalized", normalized}, {"special", special}};
}

inline std::unique_ptr<hf_bpe::HfTokenizer> load(const Json& tokenizer, const Json& config = Json()) {
  static int counter = 0;
  std::string n = std::to_string(counter++);
  hf_bpe::TokenizerFiles files;
  files.tokenizer_json = write("tokenizer" + n + ".json", tokenizer);
  if (!config.is_null()) files.tokenizer_config_json = write("tokenizer_config" + n + ".json", config);
  return std::make_unique<hf_bpe::HfTokenizer>(files);
}

inline std::vector<int32_t> bytes_of(const std::string& s) {
  std::vector<int32_t> v;
  for (unsigned char c : s) v.push_back(c);
  return v;
}

}  // namespace tiny
