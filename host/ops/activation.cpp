#include "host/ops/cpu_ops.hpp"
#include "host/ops/tensor_args.hpp"

#include "kernels/cpu/gelu.hpp"
#include "kernels/cpu/swiglu.hpp"

namespace megaswift::host::ops::cpu_impl {

namespace k = megaswift::kernels::cpu;

namespace {
struct GluDims {
  int64_t rows, cols;
};

GluDims glu_dims(Ctx ctx, T x, T half, const char* half_name) {
  const auto& tx = require(x, "x", ctx.device);
  const int64_t width = last_dim(tx);
  if (width % 2 != 0)
    fail(MSW_STATUS_SHAPE_MISMATCH, "x is " + describe(tx) + ": its last dimension must be even ([gate | up])");
  GluDims d{rows_of(tx), width / 2};
  const auto& th = require(half, half_name, ctx.device);
  if (last_dim(th) != d.cols || rows_of(th) != d.rows)
    fail(MSW_STATUS_SHAPE_MISMATCH, std::string(half_name) + " is " + describe(th) + ", expected " +
                                        std::to_string(d.rows) + " rows of " + std::to_string(d.cols) +
                                        " (half the width of x " + describe(tx) + ")");
  return d;
}

k::GeluApproximation approximation_of(int32_t a) {
  if (a == MSW_GELU_EXACT) return k::GeluApproximation::none;
  if (a == MSW_GELU_TANH) return k::GeluApproximation::tanh;
  fail(MSW_STATUS_INVALID_ARGUMENT, "unknown GELU approximation code " + std::to_string(a) + " (0 exact, 1 tanh)");
}
}  // namespace

void swiglu_forward(Ctx ctx, const msw_swiglu_args& a) {
  const GluDims d = glu_dims(ctx, &a.x, &a.out, "out");
  F32In in(a.x);
  F32Out o(a.out, false);
  k::swiglu_forward(in.data(), in.data() + d.cols, 2 * d.cols, o.data(), d.rows, d.cols);
  o.commit();
}

void swiglu_backward(Ctx ctx, const msw_swiglu_args& a) {
  const GluDims d = glu_dims(ctx, &a.x, &a.dout, "dout");
  require_numel(require(&a.dx, "dx", ctx.device), "dx", 2 * d.rows * d.cols, "the shape of x");
  F32In in(a.x), g(a.dout);
  F32Out o(a.dx, false);
  k::swiglu_backward(in.data(), in.data() + d.cols, 2 * d.cols, g.data(), o.data(), o.data() + d.cols, d.rows, d.cols);
  o.commit();
}

void gelu_forward(Ctx ctx, const msw_gelu_args& a) {
  const auto& tx = require(&a.x, "x", ctx.device);
  require_numel(require(&a.y, "y", ctx.device), "y", msw_tensor_numel(&tx), "the shape of x");
  const auto approximation = approximation_of(a.approximation);
  F32In in(tx);
  F32Out o(a.y, false);
  k::gelu_forward(in.data(), o.data(), msw_tensor_numel(&tx), approximation);
  o.commit();
}

void gelu_backward(Ctx ctx, const msw_gelu_args& a) {
  const auto& tx = require(&a.x, "x", ctx.device);
  require_numel(require(&a.dy, "dy", ctx.device), "dy", msw_tensor_numel(&tx), "the shape of x");
  require_numel(require(&a.dx, "dx", ctx.device), "dx", msw_tensor_numel(&tx), "the shape of x");
  const auto approximation = approximation_of(a.approximation);
  F32In in(tx), g(a.dy);
  F32Out o(a.dx, false);
  k::gelu_backward(in.data(), g.data(), o.data(), msw_tensor_numel(&tx), approximation);
  o.commit();
}

}  // namespace megaswift::host::ops::cpu_impl
