// Cross-entropy: per-row lse, the loss sum and the token count added to device scalars (no host read), and
// the gradient scaled by a number or a device scalar.
#include "host/ops/shared_checks.hpp"
#include "host/ops/cpu_ops.hpp"
#include "host/ops/tensor_args.hpp"

#include "host/core/host_api.hpp"

#include "kernels/cpu/cross_entropy.hpp"

#include <vector>

namespace megaswift::host::ops::cpu_impl {

namespace k = megaswift::kernels::cpu;

namespace {
struct CeDims {
  int64_t rows, vocab;
};

CeDims ce_dims(Ctx ctx, const msw_cross_entropy_args& a) {
  const auto& tl = require(&a.logits, "logits", ctx.device);
  require_index(&a.labels, "labels", ctx.device);
  CeDims d{rows_of(tl), last_dim(tl)};
  require_numel(a.labels, "labels", d.rows, "one label per row of logits " + describe(tl));
  require_numel(require(&a.lse, "lse", ctx.device), "lse", d.rows, "one value per row of logits");
  return d;
}


// Labels as the kernel indexes them: relative to the first column of logits (vocab_start of this shard).
struct Labels {
  Labels(const msw_tensor& t, int64_t vocab_start, int64_t ignore_index) : in(t) {
    ptr = in.data();
    if (vocab_start == 0) return;
    const int64_t n = msw_tensor_numel(&t);
    shifted.resize(static_cast<size_t>(n));
    for (int64_t i = 0; i < n; ++i) shifted[i] = ptr[i] == ignore_index ? ignore_index : ptr[i] - vocab_start;
    ptr = shifted.data();
  }
  I64In in;
  std::vector<int64_t> shifted;
  const int64_t* ptr = nullptr;
};
}  // namespace

void cross_entropy_forward(Ctx ctx, const msw_cross_entropy_args& a) {
  refuse_vocab_parallel(a, "CPU");
  const CeDims d = ce_dims(ctx, a);
  const msw_tensor* per_token_loss = opt(a.per_token_loss);
  const msw_tensor* loss_sum = opt(a.loss_sum);
  const msw_tensor* count = opt(a.count);
  if (per_token_loss)
    require_numel(require(per_token_loss, "per_token_loss", ctx.device), "per_token_loss", d.rows, "one per row");
  if (loss_sum) require_scalar(loss_sum, "loss_sum", ctx.device, {MSW_DTYPE_F32, MSW_DTYPE_F64});
  if (count) require_scalar(count, "count", ctx.device, {MSW_DTYPE_I64});
  F32In x(a.logits);
  Labels y(a.labels, a.vocab_start, a.ignore_index);
  F32Out l(a.lse, false);
  F32OutOpt p(per_token_loss, false);
  const auto r = k::cross_entropy_forward(x.data(), y.ptr, d.rows, d.vocab, l.data(), p.data(), a.ignore_index);
  l.commit();
  p.commit();
  if (loss_sum) write_scalar(*loss_sum, read_scalar(*loss_sum) + r.loss_sum);
  if (count) add_to_count(*count, r.count);
}

void cross_entropy_backward(Ctx ctx, const msw_cross_entropy_args& a) {
  refuse_vocab_parallel(a, "CPU");
  const CeDims d = ce_dims(ctx, a);
  require_numel(require(&a.dlogits, "dlogits", ctx.device), "dlogits", d.rows * d.vocab, "the shape of logits");
  double grad_scale = a.grad_scale;
  if (const msw_tensor* t = opt(a.grad_scale_tensor))
    grad_scale = read_scalar(require_scalar(t, "grad_scale_tensor", ctx.device, {MSW_DTYPE_F32, MSW_DTYPE_F64}));
  F32In x(a.logits), l(a.lse);
  Labels y(a.labels, a.vocab_start, a.ignore_index);
  F32Out g(a.dlogits, false);
  k::cross_entropy_backward(x.data(), y.ptr, l.data(), d.rows, d.vocab, static_cast<float>(grad_scale), g.data(),
                            a.ignore_index);
  g.commit();
}

}  // namespace megaswift::host::ops::cpu_impl
