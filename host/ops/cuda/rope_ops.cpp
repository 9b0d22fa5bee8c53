// RoPE on the GPU: the cos/sin tables of every scaling variant and the rotate-half rotation, with the checks of
// host/ops/rope.cpp. The inverse frequencies are computed here by kernels/cpu's rope_inv_freq (the CPU's numbers
// exactly) and passed to the kernel by value; see kernels/cuda/rope.hpp for dynamic NTK with device positions.
#include "host/ops/cuda/pointwise_ops.hpp"

#include "kernels/cpu/rope.hpp"
#include "kernels/cuda/rope.hpp"

#include <algorithm>
#include <cstddef>
#include <cstring>
#include <optional>
#include <string>
#include <vector>

namespace megaswift::host::ops::cuda_impl {

namespace kcpu = megaswift::kernels::cpu;

namespace {

// msw_rope_config -> the kernels' RopeConfig, validated: the same reading as host/ops/rope.cpp's to_kernel (kept
// in step with it; both read the record through its struct_size).
kcpu::RopeConfig to_kernel(const msw_rope_config* config) {
  if (!config) fail(MSW_STATUS_INVALID_ARGUMENT, "config is NULL");
  constexpr size_t kRequired = offsetof(msw_rope_config, truncate) + sizeof(int32_t);
  if (config->struct_size < kRequired)
    fail(MSW_STATUS_INVALID_ARGUMENT, "msw_rope_config.struct_size " + std::to_string(config->struct_size) +
                                          " is smaller than " + std::to_string(kRequired) +
                                          " (set it to sizeof(msw_rope_config))");
  msw_rope_config c{};
  std::memcpy(&c, config, std::min<size_t>(config->struct_size, sizeof c));
  kcpu::RopeConfig r;
  switch (c.scaling) {
    case MSW_ROPE_NONE: r.scaling = kcpu::RopeScaling::none; break;
    case MSW_ROPE_LINEAR: r.scaling = kcpu::RopeScaling::linear; break;
    case MSW_ROPE_DYNAMIC: r.scaling = kcpu::RopeScaling::dynamic; break;
    case MSW_ROPE_LLAMA3: r.scaling = kcpu::RopeScaling::llama3; break;
    case MSW_ROPE_YARN: r.scaling = kcpu::RopeScaling::yarn; break;
    default: fail(MSW_STATUS_INVALID_ARGUMENT, "unknown rope scaling code " + std::to_string(c.scaling));
  }
  r.theta = c.theta;
  r.head_dim = c.head_dim;
  r.partial_rotary_factor = c.partial_rotary_factor;
  r.max_position_embeddings = c.max_position_embeddings;
  r.factor = c.factor;
  r.original_max_position_embeddings = c.original_max_position_embeddings;
  r.low_freq_factor = c.low_freq_factor;
  r.high_freq_factor = c.high_freq_factor;
  r.beta_fast = c.beta_fast;
  r.beta_slow = c.beta_slow;
  r.mscale = c.mscale;
  r.mscale_all_dim = c.mscale_all_dim;
  if (c.has_attention_factor) r.attention_factor = c.attention_factor;
  r.truncate = c.truncate != 0;
  kcpu::rope_validate(r);
  return r;
}

struct RopeDims {
  int64_t tokens, heads, head_dim, rotary_dim, rows_per_position;
};

// x (..., H, D) of tokens in activation order, tables (tokens / rows_per_position, rotary_dim / 2) F32.
RopeDims rope_dims(Ctx ctx, const msw_tensor& x, const char* xname, const msw_rope_args& a) {
  if (x.ndim < 3)
    fail(MSW_STATUS_SHAPE_MISMATCH, std::string(xname) + " is " + describe(x) +
                                        ", expected (T, heads, head_dim) or more leading dimensions ((S, B, heads, head_dim))");
  const auto& tc = require_dense_f32(ctx, &a.cos, "cos");
  const auto& ts = require_dense_f32(ctx, &a.sin, "sin");
  RopeDims d{};
  d.heads = x.shape[x.ndim - 2];
  d.head_dim = x.shape[x.ndim - 1];
  d.tokens = d.heads * d.head_dim == 0 ? 0 : msw_tensor_numel(&x) / (d.heads * d.head_dim);
  d.rows_per_position = a.rows_per_position == 0 ? 1 : a.rows_per_position;  // 0 is read as 1 (ops.h)
  if (d.rows_per_position < 0)
    fail(MSW_STATUS_INVALID_ARGUMENT, "rows_per_position " + std::to_string(a.rows_per_position) + " is negative");
  if (tc.ndim != 2) fail(MSW_STATUS_SHAPE_MISMATCH, "cos is " + describe(tc) + ", expected (positions, rotary_dim / 2)");
  require_shape(ts, "sin", {tc.shape[0], tc.shape[1]});
  d.rotary_dim = 2 * tc.shape[1];
  if (d.rotary_dim > d.head_dim)
    fail(MSW_STATUS_SHAPE_MISMATCH, "the tables rotate " + std::to_string(d.rotary_dim) + " channels but heads have " +
                                        std::to_string(d.head_dim));
  if (d.tokens % d.rows_per_position != 0 || tc.shape[0] != d.tokens / d.rows_per_position)
    fail(MSW_STATUS_SHAPE_MISMATCH,
         "cos has " + std::to_string(tc.shape[0]) + " rows, but " + std::string(xname) + " " + describe(x) + " has " +
             std::to_string(d.tokens) + " tokens and rows_per_position is " + std::to_string(d.rows_per_position) +
             ": the tables need tokens / rows_per_position rows (rows_per_position = B for one row per position "
             "of [S, B] activations, 1 for one row per token)");
  // What kernels/cpu's rotation refuses, also for zero tokens.
  if (d.heads <= 0 || d.head_dim <= 0 || d.rotary_dim < 2)
    fail(MSW_STATUS_INVALID_ARGUMENT, std::string(xname) + " " + describe(x) + " with tables of " +
                                          std::to_string(tc.shape[1]) + " columns: heads, head_dim and rotary_dim / 2 "
                                          "must be positive");
  return d;
}

void rope_apply(Ctx ctx, const msw_rope_args& a, bool backward) {
  const char* in_name = backward ? "dy" : "x";
  const char* out_name = backward ? "dx" : "y";
  const auto& tx = require_dense_float(ctx, &a.x, in_name);
  const RopeDims d = rope_dims(ctx, tx, in_name, a);
  const auto& ty = require_dense_float(ctx, &a.y, out_name);
  require_numel(ty, out_name, msw_tensor_numel(&tx), backward ? "the shape of dy" : "the shape of x");
  require_same_dtype(ty, out_name, tx, in_name);
  use_device(ctx);
  kc::rope_apply(data_of(tx), data_of(ty), float_dtype(tx, in_name), static_cast<const float*>(data_of(a.cos)),
                 static_cast<const float*>(data_of(a.sin)), d.tokens, d.heads, d.head_dim, d.rotary_dim,
                 d.rows_per_position, backward, stream_of(ctx));
}

}  // namespace

void rope_tables(Ctx ctx, const msw_rope_tables_args& a) {
  const kcpu::RopeConfig rc = to_kernel(a.config);
  const auto& tc = require_dense_f32(ctx, &a.cos, "cos");
  if (tc.ndim != 2) fail(MSW_STATUS_SHAPE_MISMATCH, "cos is " + describe(tc) + ", expected (positions, rotary_dim / 2)");
  const int64_t rotary_dim = kcpu::rope_rotary_dim(rc);
  const int64_t p = tc.shape[0], half = rotary_dim / 2;
  require_shape(tc, "cos", {p, half});
  require_shape(require_dense_f32(ctx, &a.sin, "sin"), "sin", {p, half});
  const msw_tensor* positions = opt(a.positions);
  if (positions) {
    require_dense_index(ctx, positions, "positions");
    require_numel(*positions, "positions", p, "one position per row of cos");
  }
  if (half > kc::kRopeMaxHalf)
    fail(MSW_STATUS_UNSUPPORTED, "rotary dim " + std::to_string(rotary_dim) + ": the CUDA tables take at most " +
                                     std::to_string(2 * kc::kRopeMaxHalf) + " rotating channels");
  if (p == 0) return;
  const bool dynamic = rc.scaling == kcpu::RopeScaling::dynamic;
  // The positions are known here only when they are 0..p-1; for dynamic NTK with given positions the kernel
  // takes their maximum itself, and these frequencies (theta unscaled) serve while it stays within
  // max_position_embeddings.
  const std::vector<float> inv = kcpu::rope_inv_freq(rc, dynamic && !positions ? p - 1 : 0);
  kc::RopeFreqs freqs{};
  std::copy(inv.begin(), inv.end(), freqs.inv);
  std::optional<kc::RopeDynamic> dyn;
  if (dynamic && positions) dyn = kc::RopeDynamic{rc.theta, rc.factor, rc.max_position_embeddings, rotary_dim};
  use_device(ctx);
  std::optional<Scratch> freq_scratch;
  if (dyn) freq_scratch.emplace(ctx, static_cast<size_t>(kc::kRopeMaxHalf) * sizeof(float));
  kc::rope_tables(positions ? data_of(*positions) : nullptr, positions && positions->dtype == MSW_DTYPE_I32, p, freqs,
                  half, static_cast<float>(kcpu::rope_attention_factor(rc)), dyn ? &*dyn : nullptr,
                  freq_scratch ? static_cast<float*>(freq_scratch->data()) : nullptr,
                  static_cast<float*>(data_of(tc)), static_cast<float*>(data_of(a.sin)), stream_of(ctx));
}

void rope_forward(Ctx ctx, const msw_rope_args& a) { rope_apply(ctx, a, false); }
void rope_backward(Ctx ctx, const msw_rope_args& a) { rope_apply(ctx, a, true); }

}  // namespace megaswift::host::ops::cuda_impl
