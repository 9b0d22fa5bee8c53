#include "host/training/flops.hpp"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cstddef>

namespace megaswift::training {

FlopsModel flops_model_of(const std::string& transformer_config_json) {
  const nlohmann::json c = nlohmann::json::parse(transformer_config_json);
  auto get = [&](const char* k, int64_t fallback) {
    return c.contains(k) && c[k].is_number_integer() ? c[k].get<int64_t>() : fallback;
  };
  FlopsModel m;
  m.num_layers = get("num_layers", 0);
  m.hidden_size = get("hidden_size", 0);
  m.padded_vocab_size = get("padded_vocab_size", get("vocab_size", 0));
  m.num_attention_heads = get("num_attention_heads", 1);
  m.num_query_groups = get("num_query_groups", m.num_attention_heads);
  m.kv_channels = get("kv_channels", m.hidden_size / std::max<int64_t>(1, m.num_attention_heads));
  m.ffn_hidden_size = get("ffn_hidden_size", 4 * m.hidden_size);
  m.gated_mlp = c.value("gated_linear_unit", true);
  return m;
}

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
