#include "host/ops/rope_args.hpp"

#include <algorithm>
#include <cstddef>
#include <cstring>
#include <string>

namespace megaswift::host::ops {

kernels::cpu::RopeConfig rope_config_of(const msw_rope_config* config) {
  if (!config) fail(MSW_STATUS_INVALID_ARGUMENT, "config is NULL");
  // A record: read through its struct_size. Every member through `truncate` (all of ABI 2.0) is needed.
  constexpr size_t kRequired = offsetof(msw_rope_config, truncate) + sizeof(int32_t);
  if (config->struct_size < kRequired)
    fail(MSW_STATUS_INVALID_ARGUMENT, "msw_rope_config.struct_size " + std::to_string(config->struct_size) +
                                          " is smaller than " + std::to_string(kRequired) +
                                          " (set it to sizeof(msw_rope_config))");
  msw_rope_config full{};
  std::memcpy(&full, config, std::min<size_t>(config->struct_size, sizeof full));
  const msw_rope_config* c = &full;
  kernels::cpu::RopeConfig r;
  switch (c->scaling) {
    case MSW_ROPE_NONE: r.scaling = kernels::cpu::RopeScaling::none; break;
    case MSW_ROPE_LINEAR: r.scaling = kernels::cpu::RopeScaling::linear; break;
    case MSW_ROPE_DYNAMIC: r.scaling = kernels::cpu::RopeScaling::dynamic; break;
    case MSW_ROPE_LLAMA3: r.scaling = kernels::cpu::RopeScaling::llama3; break;
    case MSW_ROPE_YARN: r.scaling = kernels::cpu::RopeScaling::yarn; break;
    default: fail(MSW_STATUS_INVALID_ARGUMENT, "unknown rope scaling code " + std::to_string(c->scaling));
  }
  r.theta = c->theta;
  r.head_dim = c->head_dim;
  r.partial_rotary_factor = c->partial_rotary_factor;
  r.max_position_embeddings = c->max_position_embeddings;
  r.factor = c->factor;
  r.original_max_position_embeddings = c->original_max_position_embeddings;
  r.low_freq_factor = c->low_freq_factor;
  r.high_freq_factor = c->high_freq_factor;
  r.beta_fast = c->beta_fast;
  r.beta_slow = c->beta_slow;
  r.mscale = c->mscale;
  r.mscale_all_dim = c->mscale_all_dim;
  if (c->has_attention_factor) r.attention_factor = c->attention_factor;
  r.truncate = c->truncate != 0;
  kernels::cpu::rope_validate(r);
  return r;
}

RopeDims rope_dims(const msw_tensor& x, const char* xname, const msw_tensor& tc, const msw_tensor& ts,
                   int64_t rows_per_position) {
  if (x.ndim < 3)
    fail(MSW_STATUS_SHAPE_MISMATCH, std::string(xname) + " is " + describe(x) +
                                        ", expected (T, heads, head_dim) or more leading dimensions ((S, B, heads, head_dim))");
  RopeDims d{};
  d.heads = x.shape[x.ndim - 2];
  d.head_dim = x.shape[x.ndim - 1];
  d.tokens = d.heads * d.head_dim == 0 ? 0 : msw_tensor_numel(&x) / (d.heads * d.head_dim);
  d.rows_per_position = rows_per_position == 0 ? 1 : rows_per_position;  // 0 is read as 1 (ops.h)
  if (d.rows_per_position < 0)
    fail(MSW_STATUS_INVALID_ARGUMENT, "rows_per_position " + std::to_string(rows_per_position) + " is negative");
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
  return d;
}

bool split_has_rope(const msw_qkv_split_args& a) {
  if (!msw_tensor_is_absent(&a.cos)) return true;
  if (!msw_tensor_is_absent(&a.sin))
    fail(MSW_STATUS_INVALID_ARGUMENT, "sin is given without cos: RoPE in the split takes both tables");
  return false;
}

RopeDims split_rope_dims(const msw_qkv_split_args& a, const char* qn, const char* kn, const msw_tensor& cos,
                         const msw_tensor& sin) {
  const RopeDims r = rope_dims(a.q, qn, cos, sin, a.rows_per_position);
  rope_dims(a.k, kn, cos, sin, a.rows_per_position);
  if (r.rotary_dim < 2) fail(MSW_STATUS_INVALID_ARGUMENT, "cos has no columns: the tables rotate no channel");
  return r;
}

}  // namespace megaswift::host::ops
