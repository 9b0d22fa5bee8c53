#include "host/ops/cpu_ops.hpp"
#include "host/ops/tensor_args.hpp"

#include "kernels/cpu/rope.hpp"

#include <vector>

namespace megaswift::host::ops::cpu_impl {

namespace k = megaswift::kernels::cpu;

namespace {

k::RopeConfig to_kernel(const msw_rope_config* c) {
  if (!c) fail(MSW_STATUS_INVALID_ARGUMENT, "config is NULL");
  if (c->struct_size < sizeof(msw_rope_config))
    fail(MSW_STATUS_INVALID_ARGUMENT, "msw_rope_config.struct_size " + std::to_string(c->struct_size) +
                                          " is smaller than this host's " + std::to_string(sizeof(msw_rope_config)));
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

struct RopeDims {
  int64_t batch, seq, heads, head_dim, rotary_dim;
  bool per_batch;
};

RopeDims rope_dims(Ctx ctx, const msw_tensor& x, const char* xname, T cos, T sin) {
  if (x.ndim != 4) fail(MSW_STATUS_SHAPE_MISMATCH, std::string(xname) + " is " + describe(x) + ", expected (B, S, heads, head_dim)");
  const auto& tc = require(cos, "cos", ctx.device);
  const auto& ts = require(sin, "sin", ctx.device);
  RopeDims d{x.shape[0], x.shape[1], x.shape[2], x.shape[3], 0, false};
  if (tc.ndim != 2) fail(MSW_STATUS_SHAPE_MISMATCH, "cos is " + describe(tc) + ", expected (positions, rotary_dim / 2)");
  require_shape(ts, "sin", {tc.shape[0], tc.shape[1]});
  d.rotary_dim = 2 * tc.shape[1];
  if (d.rotary_dim > d.head_dim)
    fail(MSW_STATUS_SHAPE_MISMATCH, "the tables rotate " + std::to_string(d.rotary_dim) + " channels but heads have " +
                                        std::to_string(d.head_dim));
  if (tc.shape[0] == d.seq) {
    d.per_batch = false;
  } else if (tc.shape[0] == d.batch * d.seq) {
    d.per_batch = true;
  } else {
    fail(MSW_STATUS_SHAPE_MISMATCH, "cos has " + std::to_string(tc.shape[0]) + " rows, expected S = " +
                                        std::to_string(d.seq) + " (shared positions) or B*S = " +
                                        std::to_string(d.batch * d.seq) + " (per-token positions)");
  }
  return d;
}

}  // namespace

void rope_rotary_dim(Ctx, const msw_rope_config* config, int64_t* out) {
  if (!out) fail(MSW_STATUS_INVALID_ARGUMENT, "out is NULL");
  *out = k::rope_rotary_dim(to_kernel(config));
}

void rope_tables(Ctx ctx, const msw_rope_config* config, T positions, T cos, T sin) {
  const k::RopeConfig rc = to_kernel(config);
  const auto& tc = require(cos, "cos", ctx.device);
  if (tc.ndim != 2) fail(MSW_STATUS_SHAPE_MISMATCH, "cos is " + describe(tc) + ", expected (positions, rotary_dim / 2)");
  const int64_t p = tc.shape[0], half = k::rope_rotary_dim(rc) / 2;
  require_shape(tc, "cos", {p, half});
  require_shape(require(sin, "sin", ctx.device), "sin", {p, half});
  std::vector<int64_t> arange;
  const int64_t* pos = nullptr;
  std::vector<I64In> given;
  if (positions) {
    require_index(positions, "positions", ctx.device);
    require_numel(*positions, "positions", p, "one position per row of cos");
    given.emplace_back(*positions);
    pos = given[0].data();
  } else {
    arange.resize(static_cast<size_t>(p));
    for (int64_t i = 0; i < p; ++i) arange[i] = i;
    pos = arange.data();
  }
  F32Out c(*cos, false), s(*sin, false);
  k::rope_tables(rc, pos, p, c.data(), s.data());
  c.commit();
  s.commit();
}

void rope_forward(Ctx ctx, T x, T cos, T sin, T y) {
  const auto& tx = require(x, "x", ctx.device);
  const RopeDims d = rope_dims(ctx, tx, "x", cos, sin);
  require_numel(require(y, "y", ctx.device), "y", msw_tensor_numel(&tx), "the shape of x");
  F32In in(tx), c(*cos), s(*sin);
  F32Out out(*y, false);
  k::rope_forward(in.data(), out.data(), c.data(), s.data(), d.batch, d.seq, d.heads, d.head_dim, d.rotary_dim,
                  d.per_batch);
  out.commit();
}

void rope_backward(Ctx ctx, T dy, T cos, T sin, T dx) {
  const auto& tdy = require(dy, "dy", ctx.device);
  const RopeDims d = rope_dims(ctx, tdy, "dy", cos, sin);
  require_numel(require(dx, "dx", ctx.device), "dx", msw_tensor_numel(&tdy), "the shape of dy");
  F32In g(tdy), c(*cos), s(*sin);
  F32Out out(*dx, false);
  k::rope_backward(g.data(), out.data(), c.data(), s.data(), d.batch, d.seq, d.heads, d.head_dim, d.rotary_dim,
                   d.per_batch);
  out.commit();
}

}  // namespace megaswift::host::ops::cpu_impl
