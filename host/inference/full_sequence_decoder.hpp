// The reference decoder: every step runs each row's whole sequence through the training forward (a packed
// batch of the rows that got tokens) and reads the logits of its last position. No cache, so a step costs
// the whole context; it is what KvDecoder is checked against, and what a model plugin without
// MSW_CAP_DECODE could still generate with.
#pragma once

#include "host/inference/token_decoder.hpp"
#include "host/model/model_runner.hpp"

namespace megaswift::inference {

class FullSequenceDecoder : public TokenDecoder {
 public:
  FullSequenceDecoder(host::ModelRunner& model, int64_t rows, int64_t capacity);

  int64_t rows() const override { return static_cast<int64_t>(sequences_.size()); }
  int64_t capacity() const override { return capacity_; }
  int64_t vocab_size() const override;
  int64_t length(int64_t row) const override;
  void clear(int64_t row) override;
  std::vector<std::vector<float>> append(const std::vector<std::vector<int64_t>>& tokens) override;

 private:
  host::ModelRunner& model_;
  int64_t capacity_;
  std::vector<std::vector<int64_t>> sequences_;
};

}  // namespace megaswift::inference
