// The "decoder" of tokenizer.json: ByteLevel, ByteFallback, Fuse, Strip, Replace (literal) and
// Sequence, applied to the token strings as HF tokenizers' decode_chain does.
#pragma once

#include "json_field.hpp"

#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace hf_bpe {

class Decoder {
 public:
  virtual ~Decoder() = default;
  virtual void decode_chain(std::vector<std::string>& tokens) const = 0;
  // The raw bytes one token contributes when tokens are decoded one by one (for streaming), or
  // nothing when this decoder's output depends on neighbouring tokens.
  virtual std::optional<std::string> token_bytes(std::string token) const = 0;
};

// NULL for a null decoder (HF then joins the tokens with spaces).
std::unique_ptr<Decoder> make_decoder(const Field& config);

}  // namespace hf_bpe
