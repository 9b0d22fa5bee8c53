#include "host/ops/cpu_ops.hpp"
#include "host/ops/tensor_args.hpp"

#include "kernels/cpu/reduce.hpp"
#include "kernels/cpu/residual.hpp"

#include <algorithm>

namespace megaswift::host::ops::cpu_impl {

namespace k = megaswift::kernels::cpu;

void fill(Ctx ctx, T out, double value) {
  const auto& o = require(out, "out", ctx.device);
  F32Out y(o, false);
  std::fill_n(y.data(), msw_tensor_numel(&o), static_cast<float>(value));
  y.commit();
}

void copy(Ctx ctx, T src, T dst) {
  const auto& s = require(src, "src", ctx.device, false);
  const auto& d = require(dst, "dst", ctx.device, false);
  for (int32_t i = 0; i < std::max(s.ndim, d.ndim); ++i)
    if (s.ndim != d.ndim || s.shape[i] != d.shape[i])
      fail(MSW_STATUS_SHAPE_MISMATCH, "src is " + describe(s) + " but dst is " + describe(d) + ": shapes must be equal");
  convert_copy(s, d);
}

void add(Ctx ctx, T a, T b, T out) {
  const auto& ta = require(a, "a", ctx.device);
  const int64_t n = msw_tensor_numel(&ta);
  require_numel(require(b, "b", ctx.device), "b", n, "as many as a");
  require_numel(require(out, "out", ctx.device), "out", n, "as many as a");
  F32In x(*a), y(*b);
  F32Out z(*out, false);
  k::residual_add(x.data(), y.data(), z.data(), n);
  z.commit();
}

void accumulate(Ctx ctx, T src, T dst) {
  const auto& s = require(src, "src", ctx.device);
  require_numel(require(dst, "dst", ctx.device), "dst", msw_tensor_numel(&s), "as many as src");
  F32In x(s);
  F32Out y(*dst, true);
  k::accumulate(y.data(), x.data(), msw_tensor_numel(&s));
  y.commit();
}

void scale(Ctx ctx, T x, double s) {
  const auto& t = require(x, "x", ctx.device);
  F32Out y(t, true);
  k::scale(y.data(), msw_tensor_numel(&t), static_cast<float>(s));
  y.commit();
}

void sum_squares(Ctx ctx, T x, double* out) {
  const auto& t = require(x, "x", ctx.device);
  if (!out) fail(MSW_STATUS_INVALID_ARGUMENT, "out is NULL");
  F32In v(t);
  *out = k::sum_squares(v.data(), msw_tensor_numel(&t));
}

}  // namespace megaswift::host::ops::cpu_impl
