// The "pre_tokenizer" of tokenizer.json: Split (PCRE2 regex or literal, with HF's five delimiter
// behaviours and invert), ByteLevel, Digits and Sequence.
//
// ByteLevel's byte-to-character mapping is not materialised: the BPE model works on raw bytes, and
// its vocabulary is translated once at load time. ByteLevel must therefore be the last step.
#pragma once

#include "json_field.hpp"
#include "regex.hpp"

#include <deque>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace hf_bpe {

// Strings created while pre-tokenizing (a prefix space); pieces may point into them.
using Arena = std::deque<std::string>;

class PreTokenizerStep {
 public:
  virtual ~PreTokenizerStep() = default;
  // Replaces `pieces` by their sub-pieces; empty pieces are dropped.
  virtual void apply(std::vector<std::string_view>& pieces, Arena& arena) const = 0;
};

class PreTokenizer {
 public:
  // `config` is tokenizer.json's "pre_tokenizer" (may be null).
  explicit PreTokenizer(const Field& config);
  void split(std::string_view text, std::vector<std::string_view>& pieces, Arena& arena) const;
  bool byte_level() const { return byte_level_; }

 private:
  void add(const Field& config, bool last);
  std::vector<std::unique_ptr<PreTokenizerStep>> steps_;
  bool byte_level_ = false;
};

}  // namespace hf_bpe
