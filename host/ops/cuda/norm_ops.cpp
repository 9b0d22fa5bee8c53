// RMSNorm (weight offset, fused residual add) and LayerNorm on the GPU: the checks of host/ops/norm.cpp, then the
// kernels of kernels/cuda/norm on ctx's stream. Parameter gradients go through stream-ordered double scratch.
#include "host/ops/cuda/pointwise_ops.hpp"

#include "kernels/cuda/norm.hpp"

#include <optional>
#include <string>
#include <utility>

namespace megaswift::host::ops::cuda_impl {

namespace {

using T = const msw_tensor*;

struct NormDims {
  int64_t rows, dim;
};

// x (R, C), weight (C), the tensors shaped like x (of x's dtype) and the per-row statistics (F32), each given.
NormDims norm_dims(Ctx ctx, T x, T weight, std::initializer_list<std::pair<T, const char*>> same_as_x,
                   std::initializer_list<std::pair<T, const char*>> per_row) {
  const auto& tx = require_dense_float(ctx, x, "x");
  NormDims d{rows_of(tx), last_dim(tx)};
  require_shape(require_dense_float(ctx, weight, "weight"), "weight", {d.dim});
  // The CPU kernels refuse an empty row (kernels/cpu: "dim must be > 0"), also when there are no rows.
  if (d.dim <= 0) fail(MSW_STATUS_INVALID_ARGUMENT, "x is " + describe(tx) + ": rows must have at least one element");
  for (auto [t, name] : same_as_x) {
    if (!t) continue;
    require_numel(require_dense_float(ctx, t, name), name, d.rows * d.dim, "the shape of x");
    require_same_dtype(*t, name, tx, "x");
  }
  for (auto [t, name] : per_row)
    if (t) require_numel(require_dense_f32(ctx, t, name), name, d.rows, "one value per row of x");
  return d;
}

double* partials_of(const std::optional<Scratch>& s) { return s ? static_cast<double*>(s->data()) : nullptr; }

}  // namespace

void rmsnorm_forward(Ctx ctx, const msw_rmsnorm_forward_args& a) {
  const msw_tensor* residual = opt(a.residual);
  const msw_tensor* x_out = opt(a.x_out);
  const msw_tensor* x = &a.x;
  const auto& tx = require_dense_float(ctx, &a.x, "x");
  if (residual) {
    // Fused residual add: x_out = x + residual stored in x_out, and the norm is taken of x_out as stored.
    require_numel(require_dense_float(ctx, residual, "residual"), "residual", msw_tensor_numel(&tx), "the shape of x");
    require_same_dtype(*residual, "residual", tx, "x");
    if (!x_out)
      fail(MSW_STATUS_INVALID_ARGUMENT, "residual is given but x_out is missing: the fused add writes x + residual there");
    require_numel(require_dense_float(ctx, x_out, "x_out"), "x_out", msw_tensor_numel(&tx), "the shape of x");
    require_same_dtype(*x_out, "x_out", tx, "x");
    x = x_out;
  } else if (x_out) {
    fail(MSW_STATUS_INVALID_ARGUMENT, "x_out is given without residual: x_out receives x + residual of the fused add");
  }
  const NormDims d = norm_dims(ctx, x, &a.weight, {{&a.y, "y"}}, {{&a.rstd, "rstd"}});
  use_device(ctx);
  kc::rmsnorm_forward(data_of(tx), residual ? data_of(*residual) : nullptr, x_out ? data_of(*x_out) : nullptr,
                      data_of(a.weight), float_dtype(a.weight, "weight"), data_of(a.y),
                      static_cast<float*>(data_of(a.rstd)), float_dtype(tx, "x"), d.rows, d.dim,
                      static_cast<float>(a.eps), static_cast<float>(a.weight_offset), stream_of(ctx));
}

void rmsnorm_backward(Ctx ctx, const msw_rmsnorm_backward_args& a) {
  const msw_tensor *dx = opt(a.dx), *dweight = opt(a.dweight);
  const NormDims d = norm_dims(ctx, &a.x, &a.weight, {{&a.dy, "dy"}, {dx, "dx"}}, {{&a.rstd, "rstd"}});
  if (dweight) require_shape(require_dense_float(ctx, dweight, "dweight"), "dweight", {d.dim});
  use_device(ctx);
  std::optional<Scratch> partials;
  if (dweight && d.rows > 0)
    partials.emplace(ctx, static_cast<size_t>(kc::norm_partials_doubles(d.rows, d.dim, 1)) * sizeof(double));
  kc::rmsnorm_backward(data_of(a.x), data_of(a.weight), float_dtype(a.weight, "weight"),
                       static_cast<const float*>(data_of(a.rstd)), data_of(a.dy), dx ? data_of(*dx) : nullptr,
                       dweight ? data_of(*dweight) : nullptr, dweight ? float_dtype(*dweight, "dweight") : kc::Dtype::f32,
                       float_dtype(a.x, "x"), d.rows, d.dim, static_cast<float>(a.weight_offset), a.accumulate_dx != 0,
                       partials_of(partials), stream_of(ctx));
}

void layernorm_forward(Ctx ctx, const msw_layernorm_forward_args& a) {
  const msw_tensor* bias = opt(a.bias);
  const NormDims d = norm_dims(ctx, &a.x, &a.weight, {{&a.y, "y"}}, {{&a.mean, "mean"}, {&a.rstd, "rstd"}});
  if (bias) require_shape(require_dense_float(ctx, bias, "bias"), "bias", {d.dim});
  use_device(ctx);
  kc::layernorm_forward(data_of(a.x), data_of(a.weight), float_dtype(a.weight, "weight"), bias ? data_of(*bias) : nullptr,
                        bias ? float_dtype(*bias, "bias") : kc::Dtype::f32, data_of(a.y),
                        static_cast<float*>(data_of(a.mean)), static_cast<float*>(data_of(a.rstd)), float_dtype(a.x, "x"),
                        d.rows, d.dim, static_cast<float>(a.eps), stream_of(ctx));
}

void layernorm_backward(Ctx ctx, const msw_layernorm_backward_args& a) {
  const msw_tensor *dx = opt(a.dx), *dweight = opt(a.dweight), *dbias = opt(a.dbias);
  const NormDims d =
      norm_dims(ctx, &a.x, &a.weight, {{&a.dy, "dy"}, {dx, "dx"}}, {{&a.mean, "mean"}, {&a.rstd, "rstd"}});
  if (dweight) require_shape(require_dense_float(ctx, dweight, "dweight"), "dweight", {d.dim});
  if (dbias) require_shape(require_dense_float(ctx, dbias, "dbias"), "dbias", {d.dim});
  use_device(ctx);
  const int params = (dweight ? 1 : 0) + (dbias ? 1 : 0);
  std::optional<Scratch> partials;
  if (params > 0 && d.rows > 0)
    partials.emplace(ctx, static_cast<size_t>(kc::norm_partials_doubles(d.rows, d.dim, params)) * sizeof(double));
  kc::layernorm_backward(data_of(a.x), data_of(a.weight), float_dtype(a.weight, "weight"),
                         static_cast<const float*>(data_of(a.mean)), static_cast<const float*>(data_of(a.rstd)),
                         data_of(a.dy), dx ? data_of(*dx) : nullptr, dweight ? data_of(*dweight) : nullptr,
                         dweight ? float_dtype(*dweight, "dweight") : kc::Dtype::f32, dbias ? data_of(*dbias) : nullptr,
                         dbias ? float_dtype(*dbias, "dbias") : kc::Dtype::f32, float_dtype(a.x, "x"), d.rows, d.dim,
                         partials_of(partials), stream_of(ctx));
}

}  // namespace megaswift::host::ops::cuda_impl
