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

void swiglu_forward(Ctx ctx, T x, T out) {
  const GluDims d = glu_dims(ctx, x, out, "out");
  F32In in(*x);
  F32Out o(*out, false);
  k::swiglu_forward(in.data(), in.data() + d.cols, 2 * d.cols, o.data(), d.rows, d.cols);
  o.commit();
}

void swiglu_backward(Ctx ctx, T x, T dout, T dx) {
  const GluDims d = glu_dims(ctx, x, dout, "dout");
  require_numel(require(dx, "dx", ctx.device), "dx", 2 * d.rows * d.cols, "the shape of x");
  F32In in(*x), g(*dout);
  F32Out o(*dx, false);
  k::swiglu_backward(in.data(), in.data() + d.cols, 2 * d.cols, g.data(), o.data(), o.data() + d.cols, d.rows, d.cols);
  o.commit();
}

void gelu_forward(Ctx ctx, T x, T y, int32_t approximation) {
  const auto& tx = require(x, "x", ctx.device);
  require_numel(require(y, "y", ctx.device), "y", msw_tensor_numel(&tx), "the shape of x");
  const auto a = approximation_of(approximation);
  F32In in(tx);
  F32Out o(*y, false);
  k::gelu_forward(in.data(), o.data(), msw_tensor_numel(&tx), a);
  o.commit();
}

void gelu_backward(Ctx ctx, T x, T dy, T dx, int32_t approximation) {
  const auto& tx = require(x, "x", ctx.device);
  require_numel(require(dy, "dy", ctx.device), "dy", msw_tensor_numel(&tx), "the shape of x");
  require_numel(require(dx, "dx", ctx.device), "dx", msw_tensor_numel(&tx), "the shape of x");
  const auto a = approximation_of(approximation);
  F32In in(tx), g(*dy);
  F32Out o(*dx, false);
  k::gelu_backward(in.data(), g.data(), o.data(), msw_tensor_numel(&tx), a);
  o.commit();
}

}  // namespace megaswift::host::ops::cpu_impl
