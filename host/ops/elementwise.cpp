// fill, copy, add (with alpha), accumulate, scale (by a number or a device scalar), sum_squares (into a
// device scalar).
#include "host/ops/cpu_ops.hpp"
#include "host/ops/tensor_args.hpp"

#include "kernels/cpu/reduce.hpp"
#include "kernels/cpu/residual.hpp"

#include <algorithm>

namespace megaswift::host::ops::cpu_impl {

namespace k = megaswift::kernels::cpu;

void fill(Ctx ctx, const msw_fill_args& a) {
  const auto& o = require(&a.out, "out", ctx.device);
  F32Out y(o, false);
  std::fill_n(y.data(), msw_tensor_numel(&o), static_cast<float>(a.value));
  y.commit();
}

void copy(Ctx ctx, const msw_copy_args& a) {
  const auto& s = require(&a.src, "src", ctx.device, false, Strides::any);
  const auto& d = require(&a.dst, "dst", ctx.device, false, Strides::any);
  for (int32_t i = 0; i < std::max(s.ndim, d.ndim); ++i)
    if (s.ndim != d.ndim || s.shape[i] != d.shape[i])
      fail(MSW_STATUS_SHAPE_MISMATCH, "src is " + describe(s) + " but dst is " + describe(d) + ": shapes must be equal");
  convert_copy(s, d);
}

void add(Ctx ctx, const msw_add_args& a) {
  const auto& ta = require(&a.a, "a", ctx.device);
  const int64_t n = msw_tensor_numel(&ta);
  require_numel(require(&a.b, "b", ctx.device), "b", n, "as many as a");
  require_numel(require(&a.out, "out", ctx.device), "out", n, "as many as a");
  const double alpha = a.alpha == 0.0 ? 1.0 : a.alpha;  // 0 is read as 1 (ops.h): the plain residual add
  F32In x(a.a), y(a.b);
  F32Out z(a.out, false);
  k::residual_add(x.data(), y.data(), z.data(), n, static_cast<float>(alpha));
  z.commit();
}

void accumulate(Ctx ctx, const msw_accumulate_args& a) {
  const auto& s = require(&a.src, "src", ctx.device);
  require_numel(require(&a.dst, "dst", ctx.device), "dst", msw_tensor_numel(&s), "as many as src");
  F32In x(s);
  F32Out y(a.dst, true);
  k::accumulate(y.data(), x.data(), msw_tensor_numel(&s));
  y.commit();
}

void scale(Ctx ctx, const msw_scale_args& a) {
  const auto& t = require(&a.x, "x", ctx.device);
  double s = a.s;
  if (const msw_tensor* st = opt(a.scale_tensor))
    s = read_scalar(require_scalar(st, "scale_tensor", ctx.device, {MSW_DTYPE_F32, MSW_DTYPE_F64}));
  F32Out y(t, true);
  k::scale(y.data(), msw_tensor_numel(&t), static_cast<float>(s));
  y.commit();
}

void sum_squares(Ctx ctx, const msw_sum_squares_args& a) {
  const auto& t = require(&a.x, "x", ctx.device);
  const auto& out = require_scalar(&a.out, "out", ctx.device, {MSW_DTYPE_F32, MSW_DTYPE_F64});
  F32In v(t);
  const double ss = k::sum_squares(v.data(), msw_tensor_numel(&t));
  // The running total stays in double until it is stored, so an F64 out accumulates without rounding.
  write_scalar(out, (a.accumulate ? read_scalar(out) : 0.0) + ss);
}

}  // namespace megaswift::host::ops::cpu_impl
