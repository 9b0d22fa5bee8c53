#include "host/ops/cpu_ops.hpp"
#include "host/ops/tensor_args.hpp"

#include "kernels/cpu/rope.hpp"

#include <algorithm>
#include <cstddef>
#include <cstring>
#include <vector>

namespace megaswift::host::ops::cpu_impl {

namespace k = megaswift::kernels::cpu;

namespace {

k::RopeConfig to_kernel(const msw_rope_config* config) {
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
  k::RopeConfig r;
  switch (c->scaling) {
    case MSW_ROPE_NONE: r.scaling = k::RopeScaling::none; break;
    case MSW_ROPE_LINEAR: r.scaling = k::RopeScaling::linear; break;
    case MSW_ROPE_DYNAMIC: r.scaling = k::RopeScaling::dynamic; break;
    case MSW_ROPE_LLAMA3: r.scaling = k::RopeScaling::llama3; break;
    case MSW_ROPE_YARN: r.scaling = k::RopeScaling::yarn; break;
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
  k::rope_validate(r);
  return r;
}

// x (..., H, D): every leading dimension is a token in activation order; the tables have one row per
// rows_per_position tokens.
struct RopeDims {
  int64_t tokens, heads, head_dim, rotary_dim, rows_per_position;
};

RopeDims rope_dims(Ctx ctx, const msw_tensor& x, const char* xname, const msw_rope_args& a) {
  if (x.ndim < 3)
    fail(MSW_STATUS_SHAPE_MISMATCH, std::string(xname) + " is " + describe(x) +
                                        ", expected (T, heads, head_dim) or more leading dimensions ((S, B, heads, head_dim))");
  const auto& tc = require(&a.cos, "cos", ctx.device);
  const auto& ts = require(&a.sin, "sin", ctx.device);
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
  return d;
}

}  // namespace

void rope_rotary_dim(Ctx, const msw_rope_rotary_dim_args& a) {
  if (!a.out) fail(MSW_STATUS_INVALID_ARGUMENT, "out is NULL");
  *a.out = k::rope_rotary_dim(to_kernel(a.config));
}

void rope_tables(Ctx ctx, const msw_rope_tables_args& a) {
  const k::RopeConfig rc = to_kernel(a.config);
  const auto& tc = require(&a.cos, "cos", ctx.device);
  if (tc.ndim != 2) fail(MSW_STATUS_SHAPE_MISMATCH, "cos is " + describe(tc) + ", expected (positions, rotary_dim / 2)");
  const int64_t p = tc.shape[0], half = k::rope_rotary_dim(rc) / 2;
  require_shape(tc, "cos", {p, half});
  require_shape(require(&a.sin, "sin", ctx.device), "sin", {p, half});
  std::vector<int64_t> arange;
  const int64_t* pos = nullptr;
  std::vector<I64In> given;
  if (const msw_tensor* positions = opt(a.positions)) {
    require_index(positions, "positions", ctx.device);
    require_numel(*positions, "positions", p, "one position per row of cos");
    given.emplace_back(*positions);
    pos = given[0].data();
  } else {
    arange.resize(static_cast<size_t>(p));
    for (int64_t i = 0; i < p; ++i) arange[i] = i;
    pos = arange.data();
  }
  F32Out c(a.cos, false), s(a.sin, false);
  k::rope_tables(rc, pos, p, c.data(), s.data());
  c.commit();
  s.commit();
}

void rope_forward(Ctx ctx, const msw_rope_args& a) {
  const auto& tx = require(&a.x, "x", ctx.device);
  const RopeDims d = rope_dims(ctx, tx, "x", a);
  require_numel(require(&a.y, "y", ctx.device), "y", msw_tensor_numel(&tx), "the shape of x");
  F32In in(tx), c(a.cos), s(a.sin);
  F32Out out(a.y, false);
  k::rope_forward(in.data(), out.data(), c.data(), s.data(), d.tokens, d.heads, d.head_dim, d.rotary_dim,
                  d.rows_per_position);
  out.commit();
}

void rope_backward(Ctx ctx, const msw_rope_args& a) {
  const auto& tdy = require(&a.x, "dy", ctx.device);
  const RopeDims d = rope_dims(ctx, tdy, "dy", a);
  require_numel(require(&a.y, "dx", ctx.device), "dx", msw_tensor_numel(&tdy), "the shape of dy");
  F32In g(tdy), c(a.cos), s(a.sin);
  F32Out out(a.y, false);
  k::rope_backward(g.data(), out.data(), c.data(), s.data(), d.tokens, d.heads, d.head_dim, d.rotary_dim,
                   d.rows_per_position);
  out.commit();
}

}  // namespace megaswift::host::ops::cpu_impl
