// A Hugging Face model directory run by Megaswift's model runner: config.json picks the model plugin by its
// model_type, the safetensors weights (model.safetensors or the shards of model.safetensors.index.json) fill the
// parameters (fp32, CPU).
#pragma once

#include <megaswift/runtime/export.hpp>
#include <megaswift/runtime/runtime.hpp>

#include <cstdint>
#include <filesystem>
#include <memory>
#include <string>
#include <utility>
#include <vector>

namespace megaswift::runtime {

// The label of a position that has no loss (HF's ignore_index).
constexpr int64_t kIgnoreIndex = -100;

struct ModelOptions {
  int num_threads = 0;  // compute threads; <= 0: every core
};

// The loss of one forward: the sum of the next-token cross-entropies over the counted positions.
struct Loss {
  double sum = 0;
  int64_t token_count = 0;  // positions whose label is not kIgnoreIndex
  // The mean cross-entropy, what HF's causal-LM loss returns (0 when nothing is counted).
  double mean() const { return token_count ? sum / static_cast<double>(token_count) : 0.0; }
};

// Token ids as the model takes them (a tokenizer's are 32-bit).
template <class Int>
std::vector<int64_t> as_int64(const std::vector<Int>& ids) {
  return std::vector<int64_t>(ids.begin(), ids.end());
}

// HF-style labels -> the targets Model takes. HF-style: labels[t] is the token at position t, or kIgnoreIndex
// (for plain text the input ids themselves, for a conversation a Template's labels). Targets: out[t] =
// labels[t + 1] within each of `batch_size` equal-length rows, kIgnoreIndex at each row's last position. This is
// the shift HF's causal-LM loss does internally.
template <class Int>
std::vector<int64_t> shift_labels(const std::vector<Int>& labels, int64_t batch_size = 1) {
  std::vector<int64_t> out(labels.size(), kIgnoreIndex);
  if (batch_size <= 0 || labels.size() % static_cast<size_t>(batch_size) != 0) return out;
  const size_t seq = labels.size() / static_cast<size_t>(batch_size);
  for (size_t row = 0; row < static_cast<size_t>(batch_size); ++row)
    for (size_t t = 0; t + 1 < seq; ++t) out[row * seq + t] = static_cast<int64_t>(labels[row * seq + t + 1]);
  return out;
}

class MEGASWIFT_RUNTIME_API Model {
 public:
  // Throws Error naming the directory and the file when config.json or the weights are missing or do not fit,
  // and listing the model plugins when none handles its model_type.
  Model(const Runtime& runtime, const std::filesystem::path& model_dir, const ModelOptions& options = ModelOptions());
  ~Model();
  Model(Model&&) noexcept;
  Model& operator=(Model&&) noexcept;

  const std::string& plugin_name() const;  // e.g. "qwen2"
  int64_t num_parameters() const;          // elements over all parameters (tied ones once)
  int64_t vocab_size() const;              // config.json's vocab_size

  // The loss of `batch_size` rows of equal length: input_ids is (batch_size, seq_len) row-major, labels the
  // position-aligned targets of the same shape (labels[t] is the token that should follow position t, or
  // kIgnoreIndex; shift_labels() makes them from HF-style labels).
  Loss forward(const std::vector<int64_t>& input_ids, const std::vector<int64_t>& labels, int64_t batch_size = 1);
  // forward, then the gradients of loss.mean() with respect to every parameter, added to the gradients of earlier
  // calls (zero_grads() clears them).
  Loss forward_backward(const std::vector<int64_t>& input_ids, const std::vector<int64_t>& labels,
                        int64_t batch_size = 1);
  void zero_grads();
  // The accumulated gradients under the HF parameter names of the directory's weights, fp32, in HF layout.
  std::vector<std::pair<std::string, std::vector<float>>> gradients() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace megaswift::runtime
