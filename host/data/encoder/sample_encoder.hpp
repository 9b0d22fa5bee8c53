// Turns one dataset row (a conversation in the template JSON of megaswift/c/template.h) into
// input_ids and labels: the template plugin renders segments, the tokenizer plugin tokenizes them.
//
// Tokenization follows the contract in template.h, which is ms-swift's: each maximal run of TEXT
// segments with equal loss weight is tokenized as one string, each SPECIAL segment is its single
// token id, BOS/EOS are the tokenizer's own tokens. For ordinary text this gives exactly the ids of
// tokenizing the whole rendered string (what transformers' apply_chat_template does); the ids differ
// only where the loss changes between two pieces of text that the tokenizer would have merged
// (e.g. an answer that begins with "\n" right after "assistant\n"), and there they match ms-swift.
#pragma once

#include "host/data/encoder/truncation.hpp"

#include <megaswift/sdk/template.hpp>
#include <megaswift/sdk/tokenizer.hpp>

#include <atomic>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

namespace megaswift::data {

// The template and the tokenizer do not fit together (e.g. qwen2_5 with a Llama 3 tokenizer). This
// is a configuration error for the whole run, never counted as a bad row.
class TemplateMismatch : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

struct EncoderOptions {
  std::optional<size_t> max_length;  // --max_length; none: no limit
  TruncationStrategy truncation = TruncationStrategy::Delete;
  // Render options for every row (megaswift/c/template.h): system, loss_scale, ... The encoder adds
  // "eos_token" from the tokenizer when it is missing.
  std::string template_options_json = "{}";
  // Whether BOS segments produce the tokenizer's bos token; default: when it has one.
  std::optional<bool> add_bos;
};

struct EncodeResult {
  enum class Outcome { Ok, TooLong, Malformed };
  Outcome outcome = Outcome::Ok;
  std::vector<EncodedSample> samples;  // one, several (split) or none (dropped)
  size_t length = 0;                   // tokens before truncation (0 when malformed)
  std::string error;                   // why a row is malformed
};

// Thread-safe counters for a whole dataset.
struct EncodeStats {
  std::atomic<size_t> rows{0}, samples{0}, tokens{0}, dropped_too_long{0}, malformed{0}, truncated{0}, max_length{0};

  void add(const EncodeResult& r);
  std::string summary() const;  // one line for the log
};

class SampleEncoder {
 public:
  // Both handles must outlive the encoder. Throws TemplateMismatch when the tokenizer lacks an EOS
  // token the template may need, std::invalid_argument for bad options.
  SampleEncoder(const sdk::TemplateHandle& tmpl, const sdk::TokenizerHandle& tokenizer, EncoderOptions options);

  // A training sample. Rows the template refuses come back Malformed with the reason; thread-safe.
  EncodeResult encode(const std::string& conversation_json) const;
  // The prompt of a conversation that ends with the user's message, for generation (no labels,
  // no truncation); throws sdk::Error when the template refuses it. Thread-safe.
  std::vector<int32_t> encode_prompt(const std::string& conversation_json) const;
  // encode() over many rows on up to num_threads threads, in order, counting into `stats`.
  std::vector<EncodeResult> encode_all(const std::vector<std::string>& rows, int num_threads,
                                       EncodeStats* stats = nullptr) const;

  // Ids and per-token weights of one rendering, before truncation. Throws TemplateMismatch.
  EncodedSample tokenize(const sdk::RenderedTemplate& rendered) const;

  // A token covers at most longest_token_bytes() bytes of rendered text; normalizers (NFC composition, Lowercase
  // of the Kelvin sign) shorten text by at most this factor. So a row with more than
  // max_length * longest_token_bytes() * kNormalizerShrink bytes of text has more than max_length tokens.
  static constexpr size_t kNormalizerShrink = 4;
  size_t longest_token_bytes() const;

 private:
  // One tokenizer call: a run of text (id < 0) or a single token id, with its loss weight.
  struct Piece {
    std::string_view text;
    int32_t id = -1;
    float weight = 0;
  };
  std::vector<Piece> pieces(const sdk::RenderedTemplate& rendered) const;
  EncodedSample tokenize(const std::vector<Piece>& pieces) const;
  // The text bytes that surely hold more than --max_length tokens (saturating).
  size_t text_budget_bytes() const;
  // Keeps the first (from_front) or last `budget` text bytes of the pieces, whole UTF-8 characters, with the token
  // pieces inside that window.
  static void keep_window(std::vector<Piece>& parts, size_t budget, bool from_front);
  int32_t special_id(std::string_view text) const;

  const sdk::TemplateHandle& template_;
  const sdk::TokenizerHandle& tokenizer_;
  EncoderOptions options_;
  std::string train_options_;
  std::string prompt_options_;
  std::optional<int32_t> bos_id_;
  int32_t eos_id_ = -1;
  // Read from the vocabulary at construction only when the options bound rows by it (max_length with a truncation
  // other than split): a walk over every token, which encoders made per call (host/runtime) need not pay.
  size_t longest_token_bytes_ = 0;
};

}  // namespace megaswift::data
