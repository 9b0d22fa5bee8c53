// Rotary position embedding: the cos/sin tables and the rotate-half rotation, with the numerics of
// kernels/cpu/rope.cpp (see rope.hpp there): the angle pos * inv_freq taken in float32, its cos and sin evaluated
// in double and rounded, times the attention factor in float32.
//
// The inverse frequencies come from the host (kernels/cpu's rope_inv_freq, so they are the CPU's bit for bit) and
// travel BY VALUE as a kernel argument (RopeFreqs), never as a copy. The one variant whose frequencies depend on
// the call's positions, dynamic NTK (theta grows once max(positions) + 1 exceeds max_position_embeddings), cannot
// read device positions on the host: with positions given, a one-block kernel takes their maximum and, past
// max_position_embeddings, evaluates the CPU's formula in double on the device into `freq_scratch`
// (kRopeMaxHalf floats); below it the host's values (which are then exact) are used.
#pragma once

#include <kernels/cuda/launch.hpp>

#include <cstdint>

namespace megaswift::kernels::cuda {

// At most this many frequencies (rotary_dim / 2): head dims up to 1024 rotate fully; the struct stays within the
// 4 KiB of kernel arguments.
constexpr int64_t kRopeMaxHalf = 512;

struct RopeFreqs {
  float inv[kRopeMaxHalf];
};

// What the device needs to redo dynamic NTK scaling for a maximal position it finds itself.
struct RopeDynamic {
  double theta;                     // rope_theta
  double factor;                    // rope_scaling.factor
  int64_t max_position_embeddings;  // > 0
  int64_t rotary_dim;               // > 2
};

// cos, sin (n_positions, half) F32. positions: I64 (positions_i32 false) or I32 device values, or null for
// 0..n-1. `freqs` holds the `half` inverse frequencies computed by the host; `dynamic` (non-null only for dynamic
// NTK scaling with positions given) makes the device recompute them when the largest position needs it, using
// freq_scratch. A negative position, which the CPU backend refuses with an error, cannot be reported without a
// host read: its rows are written as NaN so that it cannot pass unnoticed.
void rope_tables(const void* positions, bool positions_i32, int64_t n_positions, const RopeFreqs& freqs, int64_t half,
                 float attention_factor, const RopeDynamic* dynamic, float* freq_scratch, float* cos, float* sin,
                 Stream stream);

// y = rotate-half RoPE of x (tokens, heads, head_dim), the first rotary_dim channels of each head rotating, the rest
// copied; table row of token t: t / rows_per_position. inverse: the backward (transposed) rotation. y may alias x.
void rope_apply(const void* x, void* y, Dtype dtype, const float* cos, const float* sin, int64_t tokens, int64_t heads,
                int64_t head_dim, int64_t rotary_dim, int64_t rows_per_position, bool inverse, Stream stream);

}  // namespace megaswift::kernels::cuda
