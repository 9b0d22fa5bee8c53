// Model FLOPs of a training step, by Megatron-LM's formula (num_floating_point_operations), and the throughput
// figures the log prints from it.
//
// Megatron counts a GEMM three times (forward, weight gradient, input gradient) at 2mnk FLOPs each:
//   F = 12 * B * S * L * h^2 * ( (1 + g/a + S/h) * q/h  +  f/h * m  +  V / (2 L h) )
// with g query groups, a heads, q = kv_channels * a the query projection width, f the MLP width, m = 3/2 for a
// gated (SwiGLU) MLP and 1 otherwise, V the padded vocabulary. For batches of sequences of different lengths (dynamic
// padding, padding-free THD batches) the sum runs over the real sequences, so B * S becomes sum(s_i) and the
// attention term S * (B * S) becomes sum(s_i^2): padding is not counted as work, and a padded and a packed run of the
// same samples report the same FLOPs.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace megaswift::training {

struct FlopsModel {
  int64_t num_layers = 0;
  int64_t hidden_size = 0;
  int64_t num_attention_heads = 0;
  int64_t num_query_groups = 0;
  int64_t kv_channels = 0;  // head dim
  int64_t ffn_hidden_size = 0;
  int64_t padded_vocab_size = 0;
  bool gated_mlp = true;
};

// The FLOPs model of a transformer config's JSON text (ModelRunner::transformer_config()); absent fields take
// Megatron's defaults (query groups = heads, kv_channels = hidden / heads, ffn = 4 hidden, gated MLP).
FlopsModel flops_model_of(const std::string& transformer_config_json);

// FLOPs of forward + backward over sequences of the given lengths.
double training_flops(const FlopsModel& m, const std::vector<int64_t>& sequence_lengths);
// The same for `batch` sequences of `seq_len` tokens (Megatron's own call).
double training_flops(const FlopsModel& m, int64_t batch, int64_t seq_len);

// What the log prints for an interval of `steps` iterations that took `seconds` and did `flops` model FLOPs on
// `tokens` real tokens over `world_size` devices.
struct Throughput {
  double ms_per_iteration = 0;
  double tflops_per_device = 0;  // model TFLOP/s per device
  double tokens_per_second_per_device = 0;
  double mfu_percent = 0;        // against peak_tflops; 0 when the peak is unknown (CPU)
};
Throughput throughput(double flops, int64_t tokens, double seconds, int64_t steps, int64_t world_size,
                      double peak_tflops);

// The peak dense 16-bit TFLOP/s of one device that MFU is measured against: 989 for an H100/H200 SXM (bf16, dense);
// for a CPU, 0 (MFU is not reported).
double peak_tflops_per_device(bool cuda, int device_index);

}  // namespace megaswift::training
