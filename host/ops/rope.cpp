#include "host/ops/cpu_ops.hpp"
#include "host/ops/rope_args.hpp"
#include "host/ops/tensor_args.hpp"

#include "kernels/cpu/rope.hpp"

#include <algorithm>
#include <cstddef>
#include <cstring>
#include <vector>

namespace megaswift::host::ops::cpu_impl {

namespace k = megaswift::kernels::cpu;

namespace {

// The tables on the call's device, then the shared geometry checks.
RopeDims rope_dims(Ctx ctx, const msw_tensor& x, const char* xname, const msw_rope_args& a) {
  const auto& tc = require(&a.cos, "cos", ctx.device);
  const auto& ts = require(&a.sin, "sin", ctx.device);
  return ops::rope_dims(x, xname, tc, ts, a.rows_per_position);
}

}  // namespace

void rope_rotary_dim(Ctx, const msw_rope_rotary_dim_args& a) {
  if (!a.out) fail(MSW_STATUS_INVALID_ARGUMENT, "out is NULL");
  *a.out = k::rope_rotary_dim(rope_config_of(a.config));
}

void rope_tables(Ctx ctx, const msw_rope_tables_args& a) {
  const k::RopeConfig rc = rope_config_of(a.config);
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
