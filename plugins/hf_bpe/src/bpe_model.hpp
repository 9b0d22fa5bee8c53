// The BPE model of tokenizer.json ("model": {"type": "BPE", ...}): vocabulary, ranked merges,
// ignore_merges, byte_fallback, unk_token/fuse_unk, continuing_subword_prefix, end_of_word_suffix.
// Merging follows HF tokenizers' order exactly (lowest rank first, then leftmost).
#pragma once

#include "json_field.hpp"
#include "merge_cache.hpp"
#include "string_map.hpp"

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace hf_bpe {

// Token ids (vocabulary and added tokens) must lie below this: tables are indexed by id, and the largest released
// vocabularies have a few hundred thousand tokens. The same bound as a model config's vocab_size
// (megaswift/nn/transformer_config.hpp, kMaxVocab).
inline constexpr int64_t kMaxTokenId = int64_t{1} << 24;

class BpeModel {
 public:
  // `byte_level`: the pre-tokenizer ends in ByteLevel, so pieces arrive as raw bytes and the
  // vocabulary's mapped spellings are translated to bytes here.
  BpeModel(const Field& model, bool byte_level);

  // Appends the ids of one pre-token.
  void tokenize(std::string_view piece, std::vector<int32_t>& out) const;

  // Lookups in the vocabulary's own spelling ("Ġthe").
  int32_t token_to_id(std::string_view token) const;
  const std::string* id_to_token(int32_t id) const;
  int32_t max_id() const { return static_cast<int32_t>(id_to_token_.size()) - 1; }
  bool byte_level() const { return byte_level_; }

 private:
  struct Merge {
    uint32_t rank;
    int32_t new_id;
  };
  // Open addressing on (left id, right id).
  class PairMap {
   public:
    void reserve(size_t n);
    void insert(int32_t a, int32_t b, Merge m);
    const Merge* find(int32_t a, int32_t b) const;

   private:
    static uint64_t key(int32_t a, int32_t b) { return (uint64_t(uint32_t(a)) << 32) | uint32_t(b); }
    std::vector<uint64_t> keys_;
    std::vector<Merge> values_;
    size_t mask_ = 0;
  };
  struct Symbol {
    int32_t id;
    int32_t prev;
    int32_t next;
    uint32_t len;
  };

  void initial_symbols(std::string_view piece, std::vector<Symbol>& symbols) const;
  void merge_all(std::vector<Symbol>& symbols) const;
  int32_t lookup_internal(std::string_view s) const;

  bool byte_level_ = false;
  bool ignore_merges_ = false;
  bool byte_fallback_ = false;
  bool fuse_unk_ = false;
  int32_t unk_id_ = -1;
  std::string prefix_, suffix_;

  StringMap<int32_t> vocab_;           // as spelled in tokenizer.json
  StringMap<int32_t> vocab_internal_;  // as seen by tokenize (bytes when byte-level)
  std::vector<std::string> id_to_token_;
  std::vector<char> has_id_;
  std::array<int32_t, 256> byte_ids_{};     // byte-level: the id of each single byte
  std::array<int32_t, 256> fallback_ids_{};  // byte_fallback: the id of "<0xAB>"
  PairMap merges_;
  MergeCache cache_;
};

}  // namespace hf_bpe
