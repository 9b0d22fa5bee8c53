// A Hugging Face tokenizer.json (+ tokenizer_config.json) pipeline: repair invalid UTF-8, find added
// tokens in the raw text, normalize the rest, find normalized added tokens, pre-tokenize, BPE.
// Immutable after construction; every method may run on many threads at once.
#pragma once

#include "added_tokens.hpp"
#include "bpe_model.hpp"
#include "decoder.hpp"
#include "normalizer.hpp"
#include "pre_tokenizer.hpp"
#include "string_map.hpp"

#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace hf_bpe {

struct TokenizerFiles {
  std::string tokenizer_json;
  std::string tokenizer_config_json;  // empty: none (no bos/eos/pad)
  // From the plugin's create() JSON: {"model_dir": ...} or {"tokenizer_json": ..., "tokenizer_config_json": ...}.
  static TokenizerFiles from_config(std::string_view config_json);
};

enum class Special { kBos = 0, kEos = 1, kPad = 2, kUnk = 3 };

// The plugin's probe (megaswift/c/tokenizer.h): how well this pipeline reads `dir`. kProbeReads for a
// tokenizer.json whose model is BPE and whose normalizer, pre-tokenizer and decoder it supports,
// kProbePartly for a BPE tokenizer.json with a part it does not support, 0 without a BPE tokenizer.json.
inline constexpr int32_t kProbeReads = 100;
inline constexpr int32_t kProbePartly = 10;
int32_t probe_model_dir(const std::filesystem::path& dir);

class HfTokenizer {
 public:
  explicit HfTokenizer(const TokenizerFiles& files);

  std::vector<int32_t> encode(std::string_view text, bool split_special_tokens) const;
  void encode_into(std::string_view text, bool split_special_tokens, std::vector<int32_t>& out) const;
  // Ids without a token are passed over, as HF does.
  std::string decode(const int32_t* ids, size_t count, bool skip_special_tokens) const;

  // The text that encode() actually tokenizes: `text` with invalid UTF-8 repaired and normalized
  // (NFC for Qwen) outside added tokens. decode(encode(x)) gives back exactly this.
  std::string canonical_text(std::string_view text) const;

  int32_t vocab_size() const { return vocab_size_; }
  int32_t token_to_id(std::string_view token) const;
  const std::string* id_to_token(int32_t id) const;
  int32_t special_id(Special which) const { return special_ids_[static_cast<int>(which)]; }
  bool is_special(int32_t id) const;

  // For stream decoding: the bytes a token adds when decoded on its own, or nothing when the
  // decoder is not token-by-token (then streaming is refused at creation).
  bool streamable() const;
  std::optional<std::string> token_bytes(int32_t id, bool first) const;

 private:
  void load_added_tokens(const Field& list);
  void load_special_tokens(const std::string& config_path);
  void encode_text(std::string_view text, std::vector<int32_t>& out) const;

  std::unique_ptr<Normalizer> normalizer_;
  std::unique_ptr<PreTokenizer> pre_tokenizer_;
  std::unique_ptr<BpeModel> model_;
  std::unique_ptr<Decoder> decoder_;
  std::vector<AddedToken> added_;
  StringMap<int32_t> added_by_content_;
  std::unordered_map<int32_t, size_t> added_by_id_;  // index into added_
  AddedTokenMatcher raw_matcher_, normalized_matcher_;
  int32_t vocab_size_ = 0;
  int32_t special_ids_[4] = {-1, -1, -1, -1};
};

}  // namespace hf_bpe
