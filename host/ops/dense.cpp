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

void gemm(Ctx ctx, int32_t trans_a, int32_t trans_b, double alpha, T a, T b, double beta, T c) {
  const auto& ta = require(a, "a", ctx.device);
  const auto& tb = require(b, "b", ctx.device);
  const auto& tc = require(c, "c", ctx.device);
  if (ta.ndim != 2 || tb.ndim != 2 || tc.ndim != 2)
    fail(MSW_STATUS_SHAPE_MISMATCH, "a, b and c must be 2-D, got a " + describe(ta) + ", b " + describe(tb) + ", c " +
                                        describe(tc));
  const int64_t m = trans_a ? ta.shape[1] : ta.shape[0];
  const int64_t kk = trans_a ? ta.shape[0] : ta.shape[1];
  const int64_t kb = trans_b ? tb.shape[1] : tb.shape[0];
  const int64_t n = trans_b ? tb.shape[0] : tb.shape[1];
  if (kk != kb || tc.shape[0] != m || tc.shape[1] != n)
    fail(MSW_STATUS_SHAPE_MISMATCH, "op(a) is (" + std::to_string(m) + ", " + std::to_string(kk) + "), op(b) is (" +
                                        std::to_string(kb) + ", " + std::to_string(n) + "), c is " + describe(tc));
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

LinearDims linear_dims(Ctx ctx, T x, T weight, T bias) {
  const auto& tx = require(x, "x", ctx.device);
  const auto& tw = require(weight, "weight", ctx.device);
  if (tw.ndim != 2) fail(MSW_STATUS_SHAPE_MISMATCH, "weight is " + describe(tw) + ", expected (out_features, in_features)");
  LinearDims d{rows_of(tx), tw.shape[1], tw.shape[0]};
  if (last_dim(tx) != d.in)
    fail(MSW_STATUS_SHAPE_MISMATCH, "x is " + describe(tx) + " but weight is " + describe(tw) +
                                        ": the last dimension of x must equal in_features " + std::to_string(d.in));
  if (bias) require_shape(require(bias, "bias", ctx.device), "bias", {d.out});
  return d;
}
}  // namespace

void linear_forward(Ctx ctx, T x, T weight, T bias, T y) {
  const LinearDims d = linear_dims(ctx, x, weight, bias);
  const auto& ty = require(y, "y", ctx.device);
  if (last_dim(ty) != d.out || rows_of(ty) != d.rows)
    fail(MSW_STATUS_SHAPE_MISMATCH, "y is " + describe(ty) + ", expected " + std::to_string(d.rows) + " rows of " +
                                        std::to_string(d.out) + " (x rows, out_features)");
  F32In in(*x), w(*weight);
  F32InOpt b(bias);
  F32Out out(ty, false);
  k::linear_forward(in.data(), w.data(), b.data(), out.data(), d.rows, d.in, d.out);
  out.commit();
}

void linear_backward(Ctx ctx, T x, T weight, T dy, T dx, T dweight, T dbias, int32_t accumulate_dx) {
  const LinearDims d = linear_dims(ctx, x, weight, nullptr);
  const auto& tdy = require(dy, "dy", ctx.device);
  if (last_dim(tdy) != d.out || rows_of(tdy) != d.rows)
    fail(MSW_STATUS_SHAPE_MISMATCH, "dy is " + describe(tdy) + ", expected " + std::to_string(d.rows) + " rows of " +
                                        std::to_string(d.out));
  if (dx) require_numel(require(dx, "dx", ctx.device), "dx", d.rows * d.in, "the shape of x");
  if (dweight) require_numel(require(dweight, "dweight", ctx.device), "dweight", d.out * d.in, "the shape of weight");
  if (dbias) require_numel(require(dbias, "dbias", ctx.device), "dbias", d.out, "out_features");
  F32In in(*x), w(*weight), g(tdy);
  F32OutOpt gx(dx, accumulate_dx != 0), gw(dweight, true), gb(dbias, true);
  k::linear_backward(in.data(), w.data(), g.data(), d.rows, d.in, d.out, gx.data(), gw.data(), gb.data(),
                     accumulate_dx != 0);
  gx.commit();
  gw.commit();
  gb.commit();
}

}  // namespace megaswift::host::ops::cpu_impl
