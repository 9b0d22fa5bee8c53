// Decoding through the model plugin's layer_decode (MSW_CAP_DECODE): every layer keeps the keys and values of
// each row's tokens in a cache the host allocates (memory()'s kv_bytes_per_token x capacity x rows per layer),
// so a step runs only the new tokens: one packed batch holds every row's new tokens (a whole prompt for a row
// being prefilled, one token for a row being decoded, none for an idle row), and the head runs on the last
// new token of each row only.
#pragma once

#include "host/inference/token_decoder.hpp"
#include "host/model/model_runner.hpp"

#include <cstdint>
#include <vector>

namespace megaswift::inference {

class KvDecoder : public TokenDecoder {
 public:
  // HostError when the model plugin does not declare MSW_CAP_DECODE, or rows/capacity are not positive or the
  // capacity passes the model's max_position_embeddings.
  KvDecoder(host::ModelRunner& model, int64_t rows, int64_t capacity);

  int64_t rows() const override { return rows_; }
  int64_t capacity() const override { return capacity_; }
  int64_t vocab_size() const override;
  int64_t length(int64_t row) const override;
  void clear(int64_t row) override;
  std::vector<std::vector<float>> append(const std::vector<std::vector<int64_t>>& tokens) override;

  // Bytes of the KV caches of all layers.
  uint64_t cache_bytes() const;

 private:
  void plan(int64_t tokens, int64_t max_new, int64_t heads);

  host::ModelRunner& model_;
  int64_t rows_, capacity_;
  std::vector<int64_t> lengths_;
  std::vector<host::HostBuffer> caches_;  // one per layer
  host::HostBuffer cache_seqlens_;        // I32 [rows]: lengths_ as the plugin reads them
  // Per call shape: the hidden states (ping-pong), the embedding's and head's saved buffers, the workspace,
  // the gathered last rows and their logits; grown, never shrunk.
  host::HostBuffer hidden_a_, hidden_b_, embedding_saved_, head_saved_, workspace_, last_hidden_, logits_;
  host::HostBuffer loss_sum_, token_count_;
  // The step's token arrays on the model's device (uploaded; the host vectors themselves on a CPU model).
  host::HostBuffer ids_, positions_, cu_seqlens_, last_ids_;
};

}  // namespace megaswift::inference
