// Next-token logits for rows of sequences that grow token by token: what generation runs on. Two
// implementations: KvDecoder (the model plugin's layer_decode with a KV cache: a prompt is read once, then each
// step costs one token) and FullSequenceDecoder (the whole sequence through the training forward at every
// step: no cache, quadratic, the reference the cache is checked against).
#pragma once

#include <cstdint>
#include <vector>

namespace megaswift::inference {

class TokenDecoder {
 public:
  virtual ~TokenDecoder() = default;
  virtual int64_t rows() const = 0;        // sequences decoded together
  virtual int64_t capacity() const = 0;    // tokens a row can hold (prompt + generated)
  virtual int64_t vocab_size() const = 0;  // logits per row (the tokenizer's vocabulary, not the padded one)
  virtual int64_t length(int64_t row) const = 0;
  // The row starts over, empty (its next tokens are a new prompt).
  virtual void clear(int64_t row) = 0;
  // Appends tokens[i] to row i (tokens.size() == rows(); an empty entry leaves the row as it is, so one call
  // can prefill one row while the others take a step) and returns, for each row that got tokens, the logits
  // after its last new token (vocab_size() floats); rows without new tokens get an empty vector.
  // HostError naming the row when it would pass capacity().
  virtual std::vector<std::vector<float>> append(const std::vector<std::vector<int64_t>>& tokens) = 0;
};

}  // namespace megaswift::inference
