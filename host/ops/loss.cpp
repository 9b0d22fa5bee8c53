#include "host/ops/cpu_ops.hpp"
#include "host/ops/tensor_args.hpp"

#include "kernels/cpu/cross_entropy.hpp"

namespace megaswift::host::ops::cpu_impl {

namespace k = megaswift::kernels::cpu;

namespace {
struct CeDims {
  int64_t rows, vocab;
};

CeDims ce_dims(Ctx ctx, T logits, T labels, T lse) {
  const auto& tl = require(logits, "logits", ctx.device);
  require_index(labels, "labels", ctx.device);
  CeDims d{rows_of(tl), last_dim(tl)};
  require_numel(*labels, "labels", d.rows, "one label per row of logits " + describe(tl));
  require_numel(require(lse, "lse", ctx.device), "lse", d.rows, "one value per row of logits");
  return d;
}
}  // namespace

void cross_entropy_forward(Ctx ctx, T logits, T labels, int64_t ignore_index, T lse, T per_token_loss,
                           msw_cross_entropy_result* out) {
  if (!out) fail(MSW_STATUS_INVALID_ARGUMENT, "out is NULL");
  const CeDims d = ce_dims(ctx, logits, labels, lse);
  if (per_token_loss) require_numel(require(per_token_loss, "per_token_loss", ctx.device), "per_token_loss", d.rows, "one per row");
  F32In x(*logits);
  I64In y(*labels);
  F32Out l(*lse, false);
  F32OutOpt p(per_token_loss, false);
  const auto r = k::cross_entropy_forward(x.data(), y.data(), d.rows, d.vocab, l.data(), p.data(), ignore_index);
  l.commit();
  p.commit();
  out->loss = r.loss;
  out->loss_sum = r.loss_sum;
  out->count = r.count;
}

void cross_entropy_backward(Ctx ctx, T logits, T labels, T lse, int64_t ignore_index, double grad_scale, T dlogits) {
  const CeDims d = ce_dims(ctx, logits, labels, lse);
  require_numel(require(dlogits, "dlogits", ctx.device), "dlogits", d.rows * d.vocab, "the shape of logits");
  F32In x(*logits), l(*lse);
  I64In y(*labels);
  F32Out g(*dlogits, false);
  k::cross_entropy_backward(x.data(), y.data(), l.data(), d.rows, d.vocab, static_cast<float>(grad_scale), g.data(),
                            ignore_index);
  g.commit();
}

}  // namespace megaswift::host::ops::cpu_impl
