// The "normalizer" of tokenizer.json: Unicode normal forms (NFC, NFD, NFKC, NFKD, through utf8proc),
// Lowercase, Prepend, Replace with a literal pattern, and Sequence of these.
#pragma once

#include "json_field.hpp"

#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace hf_bpe {

class Normalizer {
 public:
  virtual ~Normalizer() = default;
  // Returns the normalized text; `text` is valid UTF-8 and so is the result.
  virtual std::string normalize(std::string_view text) const = 0;
};

// NULL for a null normalizer; throws naming the field for an unknown or malformed one.
std::unique_ptr<Normalizer> make_normalizer(const Field& config);

// The Unicode normal forms over utf8proc; a text below U+0300 throughout is returned as is
// (it is in every normal form, with nothing to compose).
enum class NormalForm { kNFC, kNFD, kNFKC, kNFKD };
std::string unicode_normalize(std::string_view text, NormalForm form);

}  // namespace hf_bpe
