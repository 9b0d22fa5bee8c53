// fill, copy (any strides, dtype conversion), add, accumulate, scale (by a number or a device scalar) and
// sum_squares (into a device scalar, no host synchronisation) on the GPU.
#include "host/ops/cuda/cuda_args.hpp"
#include "host/ops/cuda/cuda_table.hpp"

#include "kernels/cuda/elementwise.hpp"

#include <string>

namespace megaswift::host::ops::cuda_impl {
namespace {

void fill(Ctx ctx, const msw_fill_args& a) {
  const auto& o = require_dense_float(ctx, &a.out, "out");
  use_device(ctx);
  kc::fill(data_of(o), float_dtype(o, "out"), msw_tensor_numel(&o), static_cast<float>(a.value), stream_of(ctx));
}

kc::CopyType copy_type(const msw_tensor& t, const char* name) {
  switch (t.dtype) {
    case MSW_DTYPE_F32: return kc::CopyType::f32;
    case MSW_DTYPE_BF16: return kc::CopyType::bf16;
    case MSW_DTYPE_F16: return kc::CopyType::f16;
    case MSW_DTYPE_F64: return kc::CopyType::f64;
    case MSW_DTYPE_I64: return kc::CopyType::i64;
    case MSW_DTYPE_I32: return kc::CopyType::i32;
    case MSW_DTYPE_I8: return kc::CopyType::i8;
    case MSW_DTYPE_U8: return kc::CopyType::u8;
    case MSW_DTYPE_BOOL: return kc::CopyType::boolean;
    default: fail(MSW_STATUS_UNSUPPORTED, std::string(name) + " is " + describe(t) + ": no CUDA copy of this dtype");
  }
}

bool is_integer(kc::CopyType t) { return t >= kc::CopyType::i64; }

void copy(Ctx ctx, const msw_copy_args& a) {
  const auto& s = require(&a.src, "src", ctx.device, false, Strides::any);
  const auto& d = require(&a.dst, "dst", ctx.device, false, Strides::any);
  bool same = s.ndim == d.ndim;
  for (int32_t i = 0; same && i < s.ndim; ++i) same = s.shape[i] == d.shape[i];
  if (!same) fail(MSW_STATUS_SHAPE_MISMATCH, "src is " + describe(s) + " but dst is " + describe(d) + ": shapes must be equal");
  const kc::CopyType st = copy_type(s, "src"), dt = copy_type(d, "dst");
  if (is_integer(st) != is_integer(dt))
    fail(MSW_STATUS_UNSUPPORTED, "src is " + describe(s) + " and dst " + describe(d) + ": float <-> integer copies are not supported");
  if (s.ndim > kc::kCopyMaxDims) fail(MSW_STATUS_UNSUPPORTED, "copy of more than 8 dimensions");
  use_device(ctx);
  kc::copy(data_of(s), st, s.strides, data_of(d), dt, d.strides, s.shape, s.ndim, stream_of(ctx));
}

void add(Ctx ctx, const msw_add_args& a) {
  const auto& ta = require_dense_float(ctx, &a.a, "a");
  const int64_t n = msw_tensor_numel(&ta);
  const auto& tb = require_dense_float(ctx, &a.b, "b");
  const auto& to = require_dense_float(ctx, &a.out, "out");
  require_numel(tb, "b", n, "as many as a");
  require_numel(to, "out", n, "as many as a");
  if (ta.dtype != tb.dtype || ta.dtype != to.dtype)
    fail(MSW_STATUS_UNSUPPORTED, "a, b and out are " + describe(ta) + ", " + describe(tb) + ", " + describe(to) +
                                     ": the CUDA add takes one dtype for all three");
  use_device(ctx);
  kc::add(data_of(ta), data_of(tb), data_of(to), float_dtype(ta, "a"), n, static_cast<float>(a.alpha == 0.0 ? 1.0 : a.alpha),
          stream_of(ctx));
}

void accumulate(Ctx ctx, const msw_accumulate_args& a) {
  const auto& s = require_dense_float(ctx, &a.src, "src");
  const auto& d = require_dense_float(ctx, &a.dst, "dst");
  require_numel(d, "dst", msw_tensor_numel(&s), "as many as src");
  use_device(ctx);
  kc::accumulate(data_of(d), float_dtype(d, "dst"), data_of(s), float_dtype(s, "src"), msw_tensor_numel(&s), stream_of(ctx));
}

void scale(Ctx ctx, const msw_scale_args& a) {
  const auto& t = require_dense_float(ctx, &a.x, "x");
  const void* st = nullptr;
  bool f64 = false;
  if (const msw_tensor* s = opt(a.scale_tensor)) {
    st = data_of(require_scalar(s, "scale_tensor", ctx.device, {MSW_DTYPE_F32, MSW_DTYPE_F64}));
    f64 = s->dtype == MSW_DTYPE_F64;
  }
  use_device(ctx);
  kc::scale(data_of(t), float_dtype(t, "x"), msw_tensor_numel(&t), static_cast<float>(a.s), st, f64, stream_of(ctx));
}

void sum_squares(Ctx ctx, const msw_sum_squares_args& a) {
  const auto& t = require_dense_float(ctx, &a.x, "x");
  const auto& out = require_scalar(&a.out, "out", ctx.device, {MSW_DTYPE_F32, MSW_DTYPE_F64});
  use_device(ctx);
  Scratch partials(ctx, static_cast<size_t>(kc::sum_squares_partials()) * sizeof(double));
  kc::sum_squares(data_of(t), float_dtype(t, "x"), msw_tensor_numel(&t), data_of(out), out.dtype == MSW_DTYPE_F64,
                  a.accumulate != 0, static_cast<double*>(partials.data()), stream_of(ctx));
}

}  // namespace

void add_elementwise_ops(DeviceOpTable& t) {
  t.fill = fill;
  t.copy = copy;
  t.add = add;
  t.accumulate = accumulate;
  t.scale = scale;
  t.sum_squares = sum_squares;
}

}  // namespace megaswift::host::ops::cuda_impl
