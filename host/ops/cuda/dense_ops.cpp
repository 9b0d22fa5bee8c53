// gemm, linear_forward and linear_backward on cuBLASLt (kernels/cuda/gemm.hpp), with the CPU backend's argument
// checks (host/ops/dense.cpp), and the registration of the whole dense family (cross-entropy and the optimizer
// steps live in cross_entropy_ops.cpp and optimizer_ops.cpp).
//
// Every product runs as one cuBLASLt matmul on the operands' own memory when cuBLASLt takes their storage
// types and layouts directly (A and B of one type; C of that type, or F32 under 16-bit A/B: the fp32 main
// gradient of Megatron's gradient-accumulation fusion). Anything else is staged, as the CPU backend stages
// everything: operands converted to f32 in scratch, the output computed in f32 scratch and rounded once into its
// dtype, so the values are those of the CPU backend's fp32 product. Should cuBLASLt's heuristic find no
// algorithm for a layout, the product is retried with every matrix staged dense f32.
#include "host/ops/shared_checks.hpp"
#include "host/ops/cuda/dense_ops.hpp"

#include "host/ops/cuda/cuda_table.hpp"

#include "kernels/cuda/elementwise.hpp"

#include <algorithm>
#include <cstdint>
#include <string>

namespace megaswift::host::ops::cuda_impl {

namespace dense {

namespace {

kc::CopyType copy_type(kc::Dtype d) {
  switch (d) {
    case kc::Dtype::f32: return kc::CopyType::f32;
    case kc::Dtype::bf16: return kc::CopyType::bf16;
    case kc::Dtype::f16: return kc::CopyType::f16;
  }
  fail(MSW_STATUS_INTERNAL, "unknown kernel dtype");
}

// Dense (row-major) element strides of t's shape.
void dense_strides(const msw_tensor& t, int64_t* strides) {
  int64_t s = 1;
  for (int32_t d = t.ndim - 1; d >= 0; --d) {
    strides[d] = s;
    s *= t.shape[d];
  }
}

}  // namespace

std::optional<kc::Matrix> matrix_view(const msw_tensor& t, const char* name, int64_t rows, int64_t cols) {
  kc::Matrix m{data_of(t), float_dtype(t, name), rows, cols, std::max<int64_t>(cols, 1)};
  if (msw_tensor_is_contiguous(&t)) return m;
  if (t.ndim < 1 || t.shape[t.ndim - 1] != cols || (cols > 1 && t.strides[t.ndim - 1] != 1)) return std::nullopt;
  int64_t ld = -1, next = 0;
  for (int32_t d = t.ndim - 2; d >= 0; --d) {
    if (t.shape[d] == 1) continue;
    if (ld < 0)
      ld = t.strides[d];
    else if (t.strides[d] != next)
      return std::nullopt;  // the leading dimensions do not flatten to one row stride
    next = t.strides[d] * t.shape[d];
  }
  if (ld < 0 || rows <= 1) return m;  // one row: its stride is never used
  if (ld < cols) return std::nullopt;  // overlapping or reversed rows
  m.ld = ld;
  return m;
}

Staged::Staged(Ctx ctx, const msw_tensor& t, kc::Dtype dtype, int64_t rows, int64_t cols, bool load)
    : ctx_(ctx), t_(t), scratch_(ctx, static_cast<size_t>(std::max<int64_t>(rows * cols, 1)) * (dtype == kc::Dtype::f32 ? 4 : 2)),
      m_{scratch_.data(), dtype, rows, cols, std::max<int64_t>(cols, 1)} {
  if (t.ndim > kc::kCopyMaxDims) fail(MSW_STATUS_UNSUPPORTED, describe(t) + ": more than 8 dimensions");
  if (!load || rows * cols == 0) return;
  int64_t strides[MSW_MAX_DIMS] = {};
  dense_strides(t, strides);
  kc::copy(data_of(t), copy_type(float_dtype(t, "tensor")), t.strides, m_.data, copy_type(dtype), strides, t.shape,
           t.ndim, stream_of(ctx_));
}

void Staged::write_back() const {
  if (m_.rows * m_.cols == 0) return;
  int64_t strides[MSW_MAX_DIMS] = {};
  dense_strides(t_, strides);
  kc::copy(m_.data, copy_type(m_.dtype), strides, data_of(t_), copy_type(float_dtype(t_, "tensor")), t_.strides,
           t_.shape, t_.ndim, stream_of(ctx_));
}

kc::Matrix input_matrix(Ctx ctx, const msw_tensor& t, const char* name, kc::Dtype want, int64_t rows, int64_t cols,
                        std::optional<Staged>& holder) {
  if (float_dtype(t, name) == want)
    if (auto v = matrix_view(t, name, rows, cols)) return *v;
  holder.emplace(ctx, t, want, rows, cols, true);
  return holder->matrix();
}

namespace {

// One product C = alpha op(A) op(B) + beta C (+ bias on every row, only with beta 0), each tensor seen as a
// rows x cols matrix.
struct Operand {
  const msw_tensor* t;
  const char* name;
  int64_t rows, cols;
};
struct GemmCall {
  Operand a, b, c;
  bool trans_a = false, trans_b = false;
  float alpha = 1.0f, beta = 0.0f;
  const msw_tensor* bias = nullptr;  // dense, c.cols elements
};

void run_gemm(Ctx ctx, const GemmCall& g) {
  const int64_t m = g.c.rows, n = g.c.cols, k = g.trans_a ? g.a.rows : g.a.cols;
  if (m == 0 || n == 0) return;
  const kc::Dtype ta = float_dtype(*g.a.t, g.a.name), tb = float_dtype(*g.b.t, g.b.name);
  const kc::Dtype tc = float_dtype(*g.c.t, g.c.name);
  const kc::Dtype tbias = g.bias ? float_dtype(*g.bias, "bias") : tc;
  for (int level = 0; level < 2; ++level) {
    // Level 1 is the retry with every matrix a dense f32 copy (cuBLASLt found nothing for the layouts as given).
    const bool all_staged = level == 1;
    const kc::Dtype in = !all_staged && ta == tb ? ta : kc::Dtype::f32;
    std::optional<Staged> sa, sb, sc;
    kc::Matrix A{}, B{}, C{};
    if (k > 0) {
      if (all_staged) {
        sa.emplace(ctx, *g.a.t, in, g.a.rows, g.a.cols, true);
        sb.emplace(ctx, *g.b.t, in, g.b.rows, g.b.cols, true);
        A = sa->matrix();
        B = sb->matrix();
      } else {
        A = input_matrix(ctx, *g.a.t, g.a.name, in, g.a.rows, g.a.cols, sa);
        B = input_matrix(ctx, *g.b.t, g.b.name, in, g.b.rows, g.b.cols, sb);
      }
    }
    // The output in place when cuBLASLt writes its dtype from `in` and no bias of another dtype must be added
    // (laying a bias down in a 16-bit output would round it before the sum, where the CPU rounds once).
    std::optional<kc::Matrix> cv = all_staged ? std::nullopt : matrix_view(*g.c.t, g.c.name, m, n);
    if (cv && (!kc::lt_direct(in, tc) || (g.bias && tbias != tc && tc != kc::Dtype::f32))) cv.reset();
    if (!cv) sc.emplace(ctx, *g.c.t, kc::Dtype::f32, m, n, g.beta != 0.0f);
    C = cv ? *cv : sc->matrix();
    if (k == 0) {
      // An empty inner dimension: C = beta C (BLAS semantics; gemm only, a linear layer has in_features >= 1).
      kc::scale_matrix(C, g.beta, stream_of(ctx));
      if (sc) sc->write_back();
      return;
    }
    kc::LtProblem p{A, B, C, g.trans_a, g.trans_b, g.alpha, g.beta, nullptr};
    const kc::LtChoice* choice = nullptr;
    bool lay_bias = false;
    // (No alignment preference covers the bias vector, so the epilogue only gets 16-byte aligned ones.)
    if (g.bias && !all_staged && tbias == C.dtype && reinterpret_cast<uintptr_t>(data_of(*g.bias)) % 16 == 0) {
      p.bias = data_of(*g.bias);  // cuBLASLt's bias epilogue: D = alpha AB + bias, one rounding
      choice = kc::lt_choose(ctx.device.id, p, stream_of(ctx));
    }
    if (!choice) {
      if (g.bias) {
        p.bias = nullptr;
        p.beta = 1.0f;  // the bias laid down in C first, then added to by the product
        lay_bias = true;
      }
      choice = kc::lt_choose(ctx.device.id, p, stream_of(ctx));
    }
    if (!choice) continue;
    if (lay_bias) kc::broadcast_rows(C, data_of(*g.bias), tbias, stream_of(ctx));
    const size_t ws = kc::lt_workspace_bytes(choice);
    std::optional<Scratch> workspace;
    if (ws > 0) workspace.emplace(ctx, ws);
    kc::lt_matmul(ctx.device.id, p, choice, workspace ? workspace->data() : nullptr, stream_of(ctx));
    if (sc) sc->write_back();
    return;
  }
  fail(MSW_STATUS_INTERNAL, "cuBLASLt has no algorithm for the product (" + std::to_string(m) + ", " + std::to_string(k) +
                                ") x (" + std::to_string(k) + ", " + std::to_string(n) + "), even with dense f32 copies");
}

// As the CPU backend: fp8 scales are refused rather than ignored (a product of unscaled fp8 values is wrong).
void refuse_fp8_scales(const msw_fp8_scales& s) {
  const std::pair<const msw_tensor*, const char*> scales[] = {
      {&s.x_scale, "fp8.x_scale"}, {&s.w_scale, "fp8.w_scale"}, {&s.y_scale, "fp8.y_scale"}, {&s.y_amax, "fp8.y_amax"}};
  for (auto [t, name] : scales)
    if (opt(*t))
      fail(MSW_STATUS_UNSUPPORTED, std::string(name) + " is given, but the CUDA backend has no fp8 GEMM yet (use bf16 "
                                                       "or f32 linear layers)");
}

void gemm(Ctx ctx, const msw_gemm_args& args) {
  const auto& ta = require(&args.a, "a", ctx.device);
  const auto& tb = require(&args.b, "b", ctx.device);
  const auto& tc = require(&args.c, "c", ctx.device);
  const bool trans_a = args.trans_a != 0, trans_b = args.trans_b != 0;
  const double alpha = args.alpha == 0.0 ? 1.0 : args.alpha;  // 0 is read as 1 (ops.h)
  const GemmDims dims = gemm_dims(ta, tb, tc, trans_a, trans_b);
  const int64_t m = dims.m, n = dims.n;
  float_dtype(ta, "a");
  float_dtype(tb, "b");
  float_dtype(tc, "c");
  use_device(ctx);
  GemmCall g;
  g.a = {&ta, "a", ta.shape[0], ta.shape[1]};
  g.b = {&tb, "b", tb.shape[0], tb.shape[1]};
  g.c = {&tc, "c", m, n};
  g.trans_a = trans_a;
  g.trans_b = trans_b;
  g.alpha = static_cast<float>(alpha);
  g.beta = static_cast<float>(args.beta);
  run_gemm(ctx, g);
}

struct LinearDims {
  int64_t rows, in, out;
};

LinearDims linear_dims(Ctx ctx, const msw_tensor& x, const msw_tensor& weight, const msw_tensor* bias, const char* op) {
  const auto& tx = require(&x, "x", ctx.device);
  const auto& tw = require(&weight, "weight", ctx.device);
  if (tw.ndim != 2) fail(MSW_STATUS_SHAPE_MISMATCH, "weight is " + describe(tw) + ", expected (out_features, in_features)");
  LinearDims d{rows_of(tx), tw.shape[1], tw.shape[0]};
  if (last_dim(tx) != d.in)
    fail(MSW_STATUS_SHAPE_MISMATCH, "x is " + describe(tx) + " but weight is " + describe(tw) +
                                        ": the last dimension of x must equal in_features " + std::to_string(d.in));
  if (bias) require_shape(require(bias, "bias", ctx.device), "bias", {d.out});
  // The CPU kernel's checks (kernels/cpu/linear.cpp), with its words.
  if (d.in <= 0) fail(MSW_STATUS_INVALID_ARGUMENT, std::string(op) + ": in_features must be > 0, got " + std::to_string(d.in));
  if (d.out <= 0) fail(MSW_STATUS_INVALID_ARGUMENT, std::string(op) + ": out_features must be > 0, got " + std::to_string(d.out));
  float_dtype(tx, "x");
  float_dtype(tw, "weight");
  if (bias) float_dtype(*bias, "bias");
  return d;
}

void linear_forward(Ctx ctx, const msw_linear_forward_args& a) {
  const msw_tensor* bias = opt(a.bias);
  const LinearDims d = linear_dims(ctx, a.x, a.weight, bias, "linear_forward");
  const auto& ty = require(&a.y, "y", ctx.device);
  refuse_fp8_scales(a.fp8);
  if (last_dim(ty) != d.out || rows_of(ty) != d.rows)
    fail(MSW_STATUS_SHAPE_MISMATCH, "y is " + describe(ty) + ", expected " + std::to_string(d.rows) + " rows of " +
                                        std::to_string(d.out) + " (x rows, out_features)");
  float_dtype(ty, "y");
  if (d.rows == 0) return;
  use_device(ctx);
  GemmCall g;  // y = x W^T + b
  g.a = {&a.x, "x", d.rows, d.in};
  g.b = {&a.weight, "weight", d.out, d.in};
  g.c = {&ty, "y", d.rows, d.out};
  g.trans_b = true;
  g.bias = bias;
  run_gemm(ctx, g);
}

void linear_backward(Ctx ctx, const msw_linear_backward_args& a) {
  const LinearDims d = linear_dims(ctx, a.x, a.weight, nullptr, "linear_backward");
  const auto& tdy = require(&a.dy, "dy", ctx.device);
  refuse_fp8_scales(a.fp8);
  if (last_dim(tdy) != d.out || rows_of(tdy) != d.rows)
    fail(MSW_STATUS_SHAPE_MISMATCH, "dy is " + describe(tdy) + ", expected " + std::to_string(d.rows) + " rows of " +
                                        std::to_string(d.out));
  const msw_tensor *dx = opt(a.dx), *dweight = opt(a.dweight), *dbias = opt(a.dbias);
  if (dx) require_numel(require(dx, "dx", ctx.device), "dx", d.rows * d.in, "the shape of x");
  if (dweight) require_numel(require(dweight, "dweight", ctx.device), "dweight", d.out * d.in, "the shape of weight");
  if (dbias) require_numel(require(dbias, "dbias", ctx.device), "dbias", d.out, "out_features");
  const kc::Dtype tdy_type = float_dtype(tdy, "dy");
  if (dx) float_dtype(*dx, "dx");
  if (dweight) float_dtype(*dweight, "dweight");
  const kc::Dtype tdb = dbias ? float_dtype(*dbias, "dbias") : kc::Dtype::f32;
  if (d.rows == 0) return;
  use_device(ctx);
  if (dx) {  // dx (=|+=) dy W
    GemmCall g;
    g.a = {&tdy, "dy", d.rows, d.out};
    g.b = {&a.weight, "weight", d.out, d.in};
    g.c = {dx, "dx", d.rows, d.in};
    g.beta = a.accumulate_dx != 0 ? 1.0f : 0.0f;
    run_gemm(ctx, g);
  }
  if (dweight) {  // dW += dy^T x
    GemmCall g;
    g.a = {&tdy, "dy", d.rows, d.out};
    g.b = {&a.x, "x", d.rows, d.in};
    g.c = {dweight, "dweight", d.out, d.in};
    g.trans_a = true;
    g.beta = 1.0f;
    run_gemm(ctx, g);
  }
  if (dbias) {  // db += sum_rows(dy), in the CPU's fixed row blocks
    std::optional<Staged> sdy, sdb;
    const kc::Matrix dy = input_matrix(ctx, tdy, "dy", tdy_type, d.rows, d.out, sdy);
    void* db = data_of(*dbias);
    kc::Dtype db_type = tdb;
    if (!msw_tensor_is_contiguous(dbias)) {
      sdb.emplace(ctx, *dbias, kc::Dtype::f32, 1, d.out, true);
      db = sdb->matrix().data;
      db_type = kc::Dtype::f32;
    }
    Scratch partials(ctx, static_cast<size_t>(kc::column_sum_partials(d.rows, d.out)) * sizeof(double));
    kc::column_sum(dy, db, db_type, static_cast<double*>(partials.data()), stream_of(ctx));
    if (sdb) sdb->write_back();
  }
}

}  // namespace

}  // namespace dense

void add_dense_ops(DeviceOpTable& t) {
  t.gemm = dense::gemm;
  t.linear_forward = dense::linear_forward;
  t.linear_backward = dense::linear_backward;
  t.cross_entropy_forward = dense::cross_entropy_forward;
  t.cross_entropy_backward = dense::cross_entropy_backward;
  t.adamw_step = dense::adamw_step;
  t.sgd_step = dense::sgd_step;
}

}  // namespace megaswift::host::ops::cuda_impl
