// cross_entropy_forward/backward on the GPU (kernels/cuda/cross_entropy.hpp) with the CPU backend's checks
// (host/ops/loss.cpp): lse, the optional per-token losses, and the loss sum and token count ADDED to device
// scalars by a fixed-order reduction; the gradient scaled by a number or a device scalar. Nothing is read back
// to the host. Logits with a dense last dimension and evenly strided rows are read in place; other layouts are
// staged dense, as are outputs that are not dense.
#include "host/ops/shared_checks.hpp"
#include "host/ops/cuda/dense_ops.hpp"

#include "host/core/host_api.hpp"

#include "kernels/cuda/cross_entropy.hpp"

#include <optional>
#include <string>

namespace megaswift::host::ops::cuda_impl::dense {

namespace {

struct CeDims {
  int64_t rows, vocab;
};

CeDims ce_dims(Ctx ctx, const msw_cross_entropy_args& a, const char* op) {
  const auto& tl = require(&a.logits, "logits", ctx.device);
  require_dense_index(ctx, &a.labels, "labels");
  CeDims d{rows_of(tl), last_dim(tl)};
  require_numel(a.labels, "labels", d.rows, "one label per row of logits " + describe(tl));
  require_numel(require(&a.lse, "lse", ctx.device), "lse", d.rows, "one value per row of logits");
  if (d.vocab <= 0) fail(MSW_STATUS_INVALID_ARGUMENT, std::string(op) + ": vocab must be > 0, got " + std::to_string(d.vocab));
  float_dtype(tl, "logits");
  float_dtype(a.lse, "lse");
  return d;
}


kc::CeLabels labels_of(const msw_cross_entropy_args& a) {
  kc::CeLabels l;
  l.data = data_of(a.labels);
  l.is_i32 = a.labels.dtype == MSW_DTYPE_I32;
  l.ignore_index = a.ignore_index;
  l.vocab_start = a.vocab_start;
  return l;
}

// A per-row vector (lse, per_token_loss) a kernel reads or writes densely: the tensor itself when contiguous,
// else a dense f32 copy (loaded for an input; written back by finish() for an output).
struct RowVector {
  RowVector(Ctx ctx, const msw_tensor& t, const char* name, int64_t rows, bool input) {
    if (msw_tensor_is_contiguous(&t)) {
      data = data_of(t);
      dtype = float_dtype(t, name);
      return;
    }
    staged.emplace(ctx, t, kc::Dtype::f32, 1, rows, input);
    data = staged->matrix().data;
    dtype = kc::Dtype::f32;
  }
  void finish() const {
    if (staged) staged->write_back();
  }
  void* data = nullptr;
  kc::Dtype dtype = kc::Dtype::f32;
  std::optional<Staged> staged;
};

kc::DeviceScalar scalar_of(const msw_tensor* t) {
  kc::DeviceScalar s;
  if (t) {
    s.data = data_of(*t);
    s.is_f64 = t->dtype == MSW_DTYPE_F64;
  }
  return s;
}

}  // namespace

void cross_entropy_forward(Ctx ctx, const msw_cross_entropy_args& a) {
  refuse_vocab_parallel(a, "CUDA");
  const CeDims d = ce_dims(ctx, a, "cross_entropy_forward");
  const msw_tensor* per_token_loss = opt(a.per_token_loss);
  const msw_tensor* loss_sum = opt(a.loss_sum);
  const msw_tensor* count = opt(a.count);
  if (per_token_loss) {
    require_numel(require(per_token_loss, "per_token_loss", ctx.device), "per_token_loss", d.rows, "one per row");
    float_dtype(*per_token_loss, "per_token_loss");
  }
  if (loss_sum) require_scalar(loss_sum, "loss_sum", ctx.device, {MSW_DTYPE_F32, MSW_DTYPE_F64});
  if (count) require_scalar(count, "count", ctx.device, {MSW_DTYPE_I64});
  if (d.rows == 0) return;
  use_device(ctx);
  std::optional<Staged> sl;
  const kc::Matrix logits = input_matrix(ctx, a.logits, "logits", float_dtype(a.logits, "logits"), d.rows, d.vocab, sl);
  RowVector lse(ctx, a.lse, "lse", d.rows, false);
  std::optional<RowVector> ptl;
  if (per_token_loss) ptl.emplace(ctx, *per_token_loss, "per_token_loss", d.rows, false);
  std::optional<Scratch> row_loss;
  if (loss_sum || count) row_loss.emplace(ctx, static_cast<size_t>(d.rows) * sizeof(double));
  kc::cross_entropy_forward(logits, labels_of(a), lse.data, lse.dtype, ptl ? ptl->data : nullptr,
                            ptl ? ptl->dtype : kc::Dtype::f32, scalar_of(loss_sum),
                            count ? static_cast<int64_t*>(data_of(*count)) : nullptr,
                            row_loss ? static_cast<double*>(row_loss->data()) : nullptr, stream_of(ctx));
  lse.finish();
  if (ptl) ptl->finish();
}

void cross_entropy_backward(Ctx ctx, const msw_cross_entropy_args& a) {
  refuse_vocab_parallel(a, "CUDA");
  const CeDims d = ce_dims(ctx, a, "cross_entropy_backward");
  const auto& tg = require(&a.dlogits, "dlogits", ctx.device);
  require_numel(tg, "dlogits", d.rows * d.vocab, "the shape of logits");
  const kc::Dtype g_type = float_dtype(tg, "dlogits");
  const msw_tensor* gst = opt(a.grad_scale_tensor);
  if (gst) require_scalar(gst, "grad_scale_tensor", ctx.device, {MSW_DTYPE_F32, MSW_DTYPE_F64});
  if (d.rows == 0) return;
  use_device(ctx);
  std::optional<Staged> sl, sg;
  const kc::Matrix logits = input_matrix(ctx, a.logits, "logits", float_dtype(a.logits, "logits"), d.rows, d.vocab, sl);
  RowVector lse(ctx, a.lse, "lse", d.rows, true);
  std::optional<kc::Matrix> g = matrix_view(tg, "dlogits", d.rows, d.vocab);
  if (!g) {
    sg.emplace(ctx, tg, g_type, d.rows, d.vocab, false);
    g = sg->matrix();
  }
  kc::cross_entropy_backward(logits, labels_of(a), lse.data, lse.dtype, static_cast<float>(a.grad_scale),
                             scalar_of(gst), *g, stream_of(ctx));
  if (sg) sg->write_back();
}

}  // namespace megaswift::host::ops::cuda_impl::dense
