// RMSNorm (with Gemma's weight offset and an optional fused residual add) and LayerNorm.
#include "host/ops/cpu_ops.hpp"
#include "host/ops/tensor_args.hpp"

#include "kernels/cpu/layernorm.hpp"
#include "kernels/cpu/residual.hpp"
#include "kernels/cpu/rmsnorm.hpp"

namespace megaswift::host::ops::cpu_impl {

namespace k = megaswift::kernels::cpu;

namespace {
struct NormDims {
  int64_t rows, dim;
};

NormDims norm_dims(Ctx ctx, T x, T weight, std::initializer_list<std::pair<T, const char*>> same_as_x,
                   std::initializer_list<std::pair<T, const char*>> per_row) {
  const auto& tx = require(x, "x", ctx.device);
  NormDims d{rows_of(tx), last_dim(tx)};
  require_shape(require(weight, "weight", ctx.device), "weight", {d.dim});
  for (auto [t, name] : same_as_x)
    if (t) require_numel(require(t, name, ctx.device), name, d.rows * d.dim, "the shape of x");
  for (auto [t, name] : per_row)
    if (t) require_numel(require(t, name, ctx.device), name, d.rows, "one value per row of x");
  return d;
}
}  // namespace

void rmsnorm_forward(Ctx ctx, const msw_rmsnorm_forward_args& a) {
  const msw_tensor* residual = opt(a.residual);
  const msw_tensor* x_out = opt(a.x_out);
  const msw_tensor* x = &a.x;
  if (residual) {
    // Fused residual add: x_out = x + residual, stored in x_out's dtype, and the norm is taken of x_out as
    // stored, exactly what the unfused add followed by the norm computes (and what backward sees as x).
    const auto& tx = require(&a.x, "x", ctx.device);
    require_numel(require(residual, "residual", ctx.device), "residual", msw_tensor_numel(&tx), "the shape of x");
    if (!x_out)
      fail(MSW_STATUS_INVALID_ARGUMENT, "residual is given but x_out is missing: the fused add writes x + residual there");
    require_numel(require(x_out, "x_out", ctx.device), "x_out", msw_tensor_numel(&tx), "the shape of x");
    {
      F32In in(tx), r(*residual);
      F32Out sum(*x_out, false);
      k::residual_add(in.data(), r.data(), sum.data(), msw_tensor_numel(&tx));
      sum.commit();
    }
    x = x_out;
  } else if (x_out) {
    fail(MSW_STATUS_INVALID_ARGUMENT, "x_out is given without residual: x_out receives x + residual of the fused add");
  }
  const NormDims d = norm_dims(ctx, x, &a.weight, {{&a.y, "y"}}, {{&a.rstd, "rstd"}});
  F32In in(*x), w(a.weight);
  F32Out out(a.y, false), r(a.rstd, false);
  k::rmsnorm_forward(in.data(), w.data(), out.data(), r.data(), d.rows, d.dim, static_cast<float>(a.eps),
                     static_cast<float>(a.weight_offset));
  out.commit();
  r.commit();
}

void rmsnorm_backward(Ctx ctx, const msw_rmsnorm_backward_args& a) {
  const msw_tensor *dx = opt(a.dx), *dweight = opt(a.dweight);
  const NormDims d = norm_dims(ctx, &a.x, &a.weight, {{&a.dy, "dy"}, {dx, "dx"}}, {{&a.rstd, "rstd"}});
  if (dweight) require_shape(require(dweight, "dweight", ctx.device), "dweight", {d.dim});
  F32In in(a.x), w(a.weight), r(a.rstd), g(a.dy);
  F32OutOpt gx(dx, a.accumulate_dx != 0), gw(dweight, true);
  k::rmsnorm_backward(in.data(), w.data(), r.data(), g.data(), gx.data(), gw.data(), d.rows, d.dim,
                      static_cast<float>(a.weight_offset), a.accumulate_dx != 0);
  gx.commit();
  gw.commit();
}

void layernorm_forward(Ctx ctx, const msw_layernorm_forward_args& a) {
  const msw_tensor* bias = opt(a.bias);
  const NormDims d = norm_dims(ctx, &a.x, &a.weight, {{&a.y, "y"}}, {{&a.mean, "mean"}, {&a.rstd, "rstd"}});
  if (bias) require_shape(require(bias, "bias", ctx.device), "bias", {d.dim});
  F32In in(a.x), w(a.weight);
  F32InOpt b(bias);
  F32Out out(a.y, false), m(a.mean, false), r(a.rstd, false);
  k::layernorm_forward(in.data(), w.data(), b.data(), out.data(), m.data(), r.data(), d.rows, d.dim,
                       static_cast<float>(a.eps));
  out.commit();
  m.commit();
  r.commit();
}

void layernorm_backward(Ctx ctx, const msw_layernorm_backward_args& a) {
  const msw_tensor *dx = opt(a.dx), *dweight = opt(a.dweight), *dbias = opt(a.dbias);
  const NormDims d = norm_dims(ctx, &a.x, &a.weight, {{&a.dy, "dy"}, {dx, "dx"}}, {{&a.mean, "mean"}, {&a.rstd, "rstd"}});
  if (dweight) require_shape(require(dweight, "dweight", ctx.device), "dweight", {d.dim});
  if (dbias) require_shape(require(dbias, "dbias", ctx.device), "dbias", {d.dim});
  F32In in(a.x), w(a.weight), m(a.mean), r(a.rstd), g(a.dy);
  F32OutOpt gx(dx, false), gw(dweight, true), gb(dbias, true);
  k::layernorm_backward(in.data(), w.data(), m.data(), r.data(), g.data(), gx.data(), gw.data(), gb.data(), d.rows,
                        d.dim);
  gx.commit();
  gw.commit();
  gb.commit();
}

}  // namespace megaswift::host::ops::cpu_impl
