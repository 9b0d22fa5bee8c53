// RoPE on the GPU: the cos/sin tables of every scaling variant and the rotate-half rotation, with the checks of
// host/ops/rope.cpp. The inverse frequencies are computed here by kernels/cpu's rope_inv_freq (the CPU's numbers
// exactly) and passed to the kernel by value; see kernels/cuda/rope.hpp for dynamic NTK with device positions.
#include "host/ops/cuda/pointwise_ops.hpp"
#include "host/ops/rope_args.hpp"

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



// x (..., H, D) of tokens in activation order, tables (tokens / rows_per_position, rotary_dim / 2) F32.
RopeDims rope_dims(Ctx ctx, const msw_tensor& x, const char* xname, const msw_rope_args& a) {
  const auto& tc = require_dense_f32(ctx, &a.cos, "cos");
  const auto& ts = require_dense_f32(ctx, &a.sin, "sin");
  const RopeDims d = ops::rope_dims(x, xname, tc, ts, a.rows_per_position);
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
  const kcpu::RopeConfig rc = rope_config_of(a.config);
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
