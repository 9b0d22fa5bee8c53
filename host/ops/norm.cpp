#include "host/ops/cpu_ops.hpp"
#include "host/ops/tensor_args.hpp"

#include "kernels/cpu/layernorm.hpp"
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

void rmsnorm_forward(Ctx ctx, T x, T weight, double eps, T y, T rstd) {
  if (!y || !rstd) fail(MSW_STATUS_INVALID_ARGUMENT, "y and rstd must not be NULL");
  const NormDims d = norm_dims(ctx, x, weight, {{y, "y"}}, {{rstd, "rstd"}});
  F32In in(*x), w(*weight);
  F32Out out(*y, false), r(*rstd, false);
  k::rmsnorm_forward(in.data(), w.data(), out.data(), r.data(), d.rows, d.dim, static_cast<float>(eps));
  out.commit();
  r.commit();
}

void rmsnorm_backward(Ctx ctx, T x, T weight, T rstd, T dy, T dx, T dweight) {
  if (!rstd || !dy) fail(MSW_STATUS_INVALID_ARGUMENT, "rstd and dy must not be NULL");
  const NormDims d = norm_dims(ctx, x, weight, {{dy, "dy"}, {dx, "dx"}}, {{rstd, "rstd"}});
  if (dweight) require_shape(require(dweight, "dweight", ctx.device), "dweight", {d.dim});
  F32In in(*x), w(*weight), r(*rstd), g(*dy);
  F32OutOpt gx(dx, false), gw(dweight, true);
  k::rmsnorm_backward(in.data(), w.data(), r.data(), g.data(), gx.data(), gw.data(), d.rows, d.dim);
  gx.commit();
  gw.commit();
}

void layernorm_forward(Ctx ctx, T x, T weight, T bias, double eps, T y, T mean, T rstd) {
  if (!y || !mean || !rstd) fail(MSW_STATUS_INVALID_ARGUMENT, "y, mean and rstd must not be NULL");
  const NormDims d = norm_dims(ctx, x, weight, {{y, "y"}}, {{mean, "mean"}, {rstd, "rstd"}});
  if (bias) require_shape(require(bias, "bias", ctx.device), "bias", {d.dim});
  F32In in(*x), w(*weight);
  F32InOpt b(bias);
  F32Out out(*y, false), m(*mean, false), r(*rstd, false);
  k::layernorm_forward(in.data(), w.data(), b.data(), out.data(), m.data(), r.data(), d.rows, d.dim,
                       static_cast<float>(eps));
  out.commit();
  m.commit();
  r.commit();
}

void layernorm_backward(Ctx ctx, T x, T weight, T mean, T rstd, T dy, T dx, T dweight, T dbias) {
  if (!mean || !rstd || !dy) fail(MSW_STATUS_INVALID_ARGUMENT, "mean, rstd and dy must not be NULL");
  const NormDims d = norm_dims(ctx, x, weight, {{dy, "dy"}, {dx, "dx"}}, {{mean, "mean"}, {rstd, "rstd"}});
  if (dweight) require_shape(require(dweight, "dweight", ctx.device), "dweight", {d.dim});
  if (dbias) require_shape(require(dbias, "dbias", ctx.device), "dbias", {d.dim});
  F32In in(*x), w(*weight), m(*mean), r(*rstd), g(*dy);
  F32OutOpt gx(dx, false), gw(dweight, true), gb(dbias, true);
  k::layernorm_backward(in.data(), w.data(), m.data(), r.data(), g.data(), gx.data(), gw.data(), gb.data(), d.rows,
                        d.dim);
  gx.commit();
  gw.commit();
  gb.commit();
}

}  // namespace megaswift::host::ops::cpu_impl
