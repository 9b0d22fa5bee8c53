// Rotary position embedding (RoPE), rotate-half convention of HF Llama/Qwen (and Megatron's default,
// non-interleaved), with the frequency variants of HF transformers' rope_scaling:
//   none     inv_freq[i] = theta^(-2i/d)                        d = rotary dim, i in [0, d/2)
//   linear   inv_freq / factor
//   dynamic  NTK: theta' = theta * (factor*L/max_pos - (factor-1))^(d/(d-2)) when L > max_pos, where
//            L = max(positions)+1 of the call (HF recomputes per forward; no caching hysteresis here)
//   llama3   Llama 3.1: wavelengths above original_max_pos/low_freq_factor are divided by factor,
//            below original_max_pos/high_freq_factor kept, smoothly interpolated between
//   yarn     YaRN: per-frequency ramp between interpolation (inv_freq/factor) and extrapolation over the
//            correction range [beta_fast, beta_slow] rotations at original_max_position_embeddings,
//            and the attention factor (mscale) multiplied into cos and sin:
//            attention_factor if given, else get_mscale(factor, mscale)/get_mscale(factor, mscale_all_dim)
//            when both mscale and mscale_all_dim are set, else 0.1*ln(factor)+1 (1 when factor <= 1)
// Partial rotary (partial_rotary_factor / Megatron's rotary_percent): only the first
// d = int(head_dim * partial_rotary_factor) channels of each head rotate; the rest pass through.
//
// Tables hold the half width, as the two halves of rotate-half share their angle:
//   cos[p, i] = attention_factor * cos(pos[p] * inv_freq[i]),  sin likewise     cos, sin (P, d/2)
// Numerics follow HF so logits match it: inv_freq rounded to float32, the angle pos*inv_freq taken in
// float32 (as torch's float32 matmul does), its cos/sin evaluated in double and rounded.
//
//   forward:  for each head, with x1 = x[..., :d/2], x2 = x[..., d/2:d]:
//             y1 = x1*cos - x2*sin,  y2 = x2*cos + x1*sin,  y[..., d:] = x[..., d:]
//             x, y (T, H, D): T tokens in the activation order ([S, B] flattened for [S, B, H, D]
//             hidden states: token t is position t / B of batch row t % B), heads contiguous
//   backward: the transpose of that rotation: dx1 = dy1*cos + dy2*sin, dx2 = dy2*cos - dy1*sin,
//             pass-through channels copied. dx written (=).
// Table rows: token t uses row t / rows_per_position. rows_per_position = B when the tables hold one
// row per position shared by the B batch rows of an [S, B] order, 1 when they hold one row per token
// (packed sequences, explicit position ids); tables then have T / rows_per_position rows.
// y may alias x and dx may alias dy (in place). Tokens are spread over threads, each written by one.
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>
#include <vector>

namespace megaswift::kernels::cpu {

enum class RopeScaling { none, linear, dynamic, llama3, yarn };

// "default" (or empty) -> none, "linear", "dynamic", "llama3", "yarn"; anything else throws
// std::invalid_argument listing the supported names.
RopeScaling rope_scaling_from_name(std::string_view rope_type);

// The numbers of config.json, already resolved by the caller (which of rope_scaling's keys apply, and
// transformers-version quirks such as yarn's factor, are the model plugin's business).
struct RopeConfig {
  RopeScaling scaling = RopeScaling::none;
  double theta = 10000.0;                      // rope_theta
  int64_t head_dim = 0;                        // channels per head (head_dim or hidden/heads)
  double partial_rotary_factor = 1.0;          // fraction of head_dim that rotates
  int64_t max_position_embeddings = 0;         // config.max_position_embeddings (dynamic)
  double factor = 1.0;                         // rope_scaling.factor (linear, dynamic, llama3, yarn)
  int64_t original_max_position_embeddings = 0;  // llama3 (required); yarn (0: use max_position_embeddings)
  double low_freq_factor = 1.0;                // llama3
  double high_freq_factor = 4.0;               // llama3
  double beta_fast = 32.0;                     // yarn
  double beta_slow = 1.0;                      // yarn
  double mscale = 0.0;                         // yarn; 0 = absent
  double mscale_all_dim = 0.0;                 // yarn; 0 = absent
  std::optional<double> attention_factor;      // yarn: rope_scaling.attention_factor when present
  bool truncate = true;                        // yarn: floor/ceil the correction range (HF default true)
};

// Throws std::invalid_argument naming the field when the config cannot describe a rotation
// (head_dim <= 0, odd rotary dim, theta <= 0, factor <= 0, missing llama3/dynamic fields, ...).
void rope_validate(const RopeConfig& config);

// Channels per head that rotate: int(head_dim * partial_rotary_factor); even.
int64_t rope_rotary_dim(const RopeConfig& config);

// inv_freq (rotary_dim/2 entries) as float32 values, for a call whose largest position is
// max_position (only the dynamic variant depends on it).
std::vector<float> rope_inv_freq(const RopeConfig& config, int64_t max_position = 0);

// The factor multiplied into cos and sin (1 except for yarn).
double rope_attention_factor(const RopeConfig& config);

// Fills cos and sin (P, rotary_dim/2) for P positions (each >= 0).
void rope_tables(const RopeConfig& config, const int64_t* positions, int64_t n_positions, float* cos, float* sin);

void rope_forward(const float* x, float* y, const float* cos, const float* sin, int64_t tokens, int64_t heads,
                  int64_t head_dim, int64_t rotary_dim, int64_t rows_per_position = 1);

void rope_backward(const float* dy, float* dx, const float* cos, const float* sin, int64_t tokens, int64_t heads,
                   int64_t head_dim, int64_t rotary_dim, int64_t rows_per_position = 1);

}  // namespace megaswift::kernels::cpu
