#include "stream_decoder.hpp"

#include "utf8.hpp"

namespace hf_bpe {

StreamDecoder::StreamDecoder(const HfTokenizer& tokenizer, bool skip_special_tokens)
    : tokenizer_(tokenizer), skip_special_(skip_special_tokens) {
  if (!tokenizer_.streamable()) {
    throw megaswift::sdk::Error(MSW_STATUS_UNSUPPORTED,
                                "hf_bpe: this tokenizer's decoder (Strip, or a Replace of several characters) "
                                "depends on neighbouring tokens, so it cannot decode a stream token by token");
  }
}

std::string_view StreamDecoder::step(int32_t id) {
  out_.clear();
  if (!tokenizer_.id_to_token(id)) return out_;  // decode passes over ids without a token too
  if (skip_special_ && tokenizer_.is_special(id)) return out_;
  auto bytes = tokenizer_.token_bytes(id, first_);
  first_ = false;
  pending_ += *bytes;
  size_t complete = utf8::complete_prefix(pending_);
  if (complete) {
    out_ = utf8::repair(std::string_view(pending_).substr(0, complete));
    pending_.erase(0, complete);
  }
  return out_;
}

std::string_view StreamDecoder::flush() {
  out_ = utf8::repair(pending_);
  pending_.clear();
  first_ = true;
  return out_;
}

}  // namespace hf_bpe
