// Incremental decoding for streamed generation: ids go in one at a time, and only whole UTF-8
// characters come out. The bytes of a character split across tokens are held back until it is
// complete; a sequence that can never complete becomes U+FFFD at once. Everything emitted plus
// flush() equals HfTokenizer::decode of the same ids.
#pragma once

#include "hf_tokenizer.hpp"

#include <string>
#include <string_view>

namespace hf_bpe {

class StreamDecoder {
 public:
  // Throws (UNSUPPORTED) when the tokenizer's decoder is not token-by-token (e.g. Strip).
  StreamDecoder(const HfTokenizer& tokenizer, bool skip_special_tokens);
  // Views valid until the next call.
  std::string_view step(int32_t id);
  std::string_view flush();

 private:
  const HfTokenizer& tokenizer_;
  bool skip_special_;
  bool first_ = true;
  std::string pending_;
  std::string out_;
};

}  // namespace hf_bpe
