#include "host/training/flops.hpp"

#include <cstddef>

namespace megaswift::training {

double training_flops(const FlopsModel& m, const std::vector<int64_t>& sequence_lengths) {
  const double h = static_cast<double>(m.hidden_size);
  const double L = static_cast<double>(m.num_layers);
  const double a = static_cast<double>(m.num_attention_heads);
  const double g = static_cast<double>(m.num_query_groups > 0 ? m.num_query_groups : m.num_attention_heads);
  const double q_ratio = static_cast<double>(m.kv_channels) * a / h;
  const double mlp = static_cast<double>(m.ffn_hidden_size) / h * (m.gated_mlp ? 1.5 : 1.0);
  const double logit = static_cast<double>(m.padded_vocab_size) / (2.0 * L * h);
  double tokens = 0, squares = 0;
  for (int64_t s : sequence_lengths) {
    tokens += static_cast<double>(s);
    squares += static_cast<double>(s) * static_cast<double>(s);
  }
  // 12 L h^2 * [ tokens * ((1 + g/a) q/h + mlp + logit) + squares / h * q/h ]
  return 12.0 * L * h * h * (tokens * ((1.0 + g / a) * q_ratio + mlp + logit) + squares / h * q_ratio);
}

double training_flops(const FlopsModel& m, int64_t batch, int64_t seq_len) {
  return training_flops(m, std::vector<int64_t>(static_cast<size_t>(batch), seq_len));
}

Throughput throughput(double flops, int64_t tokens, double seconds, int64_t steps, int64_t world_size,
                      double peak_tflops) {
  Throughput t;
  if (seconds <= 0 || steps <= 0) return t;
  const double world = static_cast<double>(world_size > 0 ? world_size : 1);
  t.ms_per_iteration = seconds / static_cast<double>(steps) * 1e3;
  t.tflops_per_device = flops / seconds / 1e12 / world;
  t.tokens_per_second_per_device = static_cast<double>(tokens) / seconds / world;
  t.mfu_percent = peak_tflops > 0 ? 100.0 * t.tflops_per_device / peak_tflops : 0.0;
  return t;
}

double peak_tflops_per_device(bool cuda, int /*device_index*/) {
  // The GPU the project targets (H100/H200 SXM, dense bf16). The CUDA backend refines this by device name.
  return cuda ? 989.0 : 0.0;
}

}  // namespace megaswift::training
