#include "host/ops/shared_checks.hpp"
#include "host/ops/cpu_ops.hpp"
#include "host/ops/tensor_args.hpp"

#include "kernels/cpu/linear.hpp"

#include <algorithm>
#include <vector>

namespace megaswift::host::ops::cpu_impl {

namespace k = megaswift::kernels::cpu;

namespace {

// A 2-D operand the GEMM can read directly: F32 with unit column stride and a row stride >= its width.
bool gemm_ready(const msw_tensor& t) {
  return t.dtype == MSW_DTYPE_F32 && t.ndim == 2 && (t.shape[1] <= 1 || t.strides[1] == 1) &&
         (t.shape[0] <= 1 || t.strides[0] >= t.shape[1]);
}

int64_t row_stride(const msw_tensor& t) { return t.shape[0] <= 1 ? std::max<int64_t>(t.shape[1], 1) : t.strides[0]; }

struct GemmOperand {
  const float* ptr;
  int64_t ld;
  std::vector<F32In> staged;
};

GemmOperand operand(const msw_tensor& t) {
  if (gemm_ready(t))
    return {reinterpret_cast<const float*>(static_cast<const char*>(t.data) + t.byte_offset), row_stride(t), {}};
  GemmOperand g{nullptr, std::max<int64_t>(t.shape[1], 1), {}};
  g.staged.emplace_back(t);
  g.ptr = g.staged[0].data();
  return g;
}

}  // namespace

void gemm(Ctx ctx, const msw_gemm_args& args) {
  const auto& ta = require(&args.a, "a", ctx.device);
  const auto& tb = require(&args.b, "b", ctx.device);
  const auto& tc = require(&args.c, "c", ctx.device);
  const bool trans_a = args.trans_a != 0, trans_b = args.trans_b != 0;
  const double alpha = args.alpha == 0.0 ? 1.0 : args.alpha;  // 0 is read as 1 (ops.h)
  const double beta = args.beta;
  const GemmDims dims = gemm_dims(ta, tb, tc, trans_a, trans_b);
  const int64_t m = dims.m, n = dims.n, kk = dims.k;
  GemmOperand ga = operand(ta), gb = operand(tb);
  if (gemm_ready(tc)) {
    k::gemm(trans_a, trans_b, m, n, kk, static_cast<float>(alpha), ga.ptr, ga.ld, gb.ptr, gb.ld,
            static_cast<float>(beta), reinterpret_cast<float*>(static_cast<char*>(tc.data) + tc.byte_offset),
            row_stride(tc));
    return;
  }
  F32Out out(tc, beta != 0.0);
  k::gemm(trans_a, trans_b, m, n, kk, static_cast<float>(alpha), ga.ptr, ga.ld, gb.ptr, gb.ld,
          static_cast<float>(beta), out.data(), std::max<int64_t>(n, 1));
  out.commit();
}

namespace {
struct LinearDims {
  int64_t rows, in, out;
};

// fp8 operands need their scales applied inside the GEMM, which only the CUDA backend will do; the CPU
// backend refuses the scales rather than silently computing with unscaled values.
void refuse_fp8_scales(const msw_fp8_scales& s) {
  const std::pair<const msw_tensor*, const char*> scales[] = {
      {&s.x_scale, "fp8.x_scale"}, {&s.w_scale, "fp8.w_scale"}, {&s.y_scale, "fp8.y_scale"}, {&s.y_amax, "fp8.y_amax"}};
  for (auto [t, name] : scales)
    if (opt(*t))
      fail(MSW_STATUS_UNSUPPORTED, std::string(name) + " is given, but the CPU backend has no fp8 GEMM: fp8 "
                                                       "linear layers need the CUDA backend (use bf16 or f32 on CPU)");
}

LinearDims linear_dims(Ctx ctx, const msw_tensor& x, const msw_tensor& weight, const msw_tensor* bias) {
  const auto& tx = require(&x, "x", ctx.device);
  const auto& tw = require(&weight, "weight", ctx.device);
  if (tw.ndim != 2) fail(MSW_STATUS_SHAPE_MISMATCH, "weight is " + describe(tw) + ", expected (out_features, in_features)");
  LinearDims d{rows_of(tx), tw.shape[1], tw.shape[0]};
  if (last_dim(tx) != d.in)
    fail(MSW_STATUS_SHAPE_MISMATCH, "x is " + describe(tx) + " but weight is " + describe(tw) +
                                        ": the last dimension of x must equal in_features " + std::to_string(d.in));
  if (bias) require_shape(require(bias, "bias", ctx.device), "bias", {d.out});
  return d;
}
}  // namespace

void linear_forward(Ctx ctx, const msw_linear_forward_args& a) {
  const LinearDims d = linear_dims(ctx, a.x, a.weight, opt(a.bias));
  const auto& ty = require(&a.y, "y", ctx.device);
  refuse_fp8_scales(a.fp8);
  if (last_dim(ty) != d.out || rows_of(ty) != d.rows)
    fail(MSW_STATUS_SHAPE_MISMATCH, "y is " + describe(ty) + ", expected " + std::to_string(d.rows) + " rows of " +
                                        std::to_string(d.out) + " (x rows, out_features)");
  F32In in(a.x), w(a.weight);
  F32InOpt b(opt(a.bias));
  F32Out out(ty, false);
  k::linear_forward(in.data(), w.data(), b.data(), out.data(), d.rows, d.in, d.out);
  out.commit();
}

void linear_backward(Ctx ctx, const msw_linear_backward_args& a) {
  const LinearDims d = linear_dims(ctx, a.x, a.weight, nullptr);
  const auto& tdy = require(&a.dy, "dy", ctx.device);
  refuse_fp8_scales(a.fp8);
  if (last_dim(tdy) != d.out || rows_of(tdy) != d.rows)
    fail(MSW_STATUS_SHAPE_MISMATCH, "dy is " + describe(tdy) + ", expected " + std::to_string(d.rows) + " rows of " +
                                        std::to_string(d.out));
  const msw_tensor *dx = opt(a.dx), *dweight = opt(a.dweight), *dbias = opt(a.dbias);
  if (dx) require_numel(require(dx, "dx", ctx.device), "dx", d.rows * d.in, "the shape of x");
  if (dweight) require_numel(require(dweight, "dweight", ctx.device), "dweight", d.out * d.in, "the shape of weight");
  if (dbias) require_numel(require(dbias, "dbias", ctx.device), "dbias", d.out, "out_features");
  F32In in(a.x), w(a.weight), g(tdy);
  F32OutOpt gx(dx, a.accumulate_dx != 0), gw(dweight, true), gb(dbias, true);
  k::linear_backward(in.data(), w.data(), g.data(), d.rows, d.in, d.out, gx.data(), gw.data(), gb.data(),
                     a.accumulate_dx != 0);
  gx.commit();
  gw.commit();
  gb.commit();
}

}  // namespace megaswift::host::ops::cpu_impl
