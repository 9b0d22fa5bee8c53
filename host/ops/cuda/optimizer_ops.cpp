// adamw_step and sgd_step on the GPU (kernels/cuda/optimizer.hpp) with the CPU backend's checks
// (host/ops/optimizer.cpp): the records (host memory describing device tensors) are read through their element
// size and struct_size, every tensor is checked before anything is launched, and grad_scale / found_inf stay on
// the device, read by the kernels (found_inf != 0 makes every kernel return at once), so nothing synchronises.
#include "host/ops/optimizer_args.hpp"
#include "host/ops/cuda/dense_ops.hpp"

#include "host/core/args.hpp"

#include "kernels/cuda/optimizer.hpp"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <string>
#include <vector>

namespace megaswift::host::ops::cuda_impl::dense {

namespace {


kc::ScalarType scalar_type(int32_t dtype) {
  switch (dtype) {
    case MSW_DTYPE_F32: return kc::ScalarType::f32;
    case MSW_DTYPE_F64: return kc::ScalarType::f64;
    case MSW_DTYPE_I64: return kc::ScalarType::i64;
    default: return kc::ScalarType::none;
  }
}

// grad_scale (F32/F64) and found_inf (F32/F64/I64): device scalars the kernels read themselves.
kc::StepScalars step_scalars(Ctx ctx, const msw_tensor& grad_scale, const msw_tensor& found_inf) {
  kc::StepScalars s;
  if (const msw_tensor* t = opt(grad_scale)) {
    require_scalar(t, "grad_scale", ctx.device, {MSW_DTYPE_F32, MSW_DTYPE_F64});
    s.grad_scale = data_of(*t);
    s.grad_scale_type = scalar_type(t->dtype);
  }
  if (const msw_tensor* t = opt(found_inf)) {
    require_scalar(t, "found_inf", ctx.device, {MSW_DTYPE_F32, MSW_DTYPE_F64, MSW_DTYPE_I64});
    s.found_inf = data_of(*t);
    s.found_inf_type = scalar_type(t->dtype);
  }
  return s;
}


}  // namespace

void adamw_step(Ctx ctx, const msw_adamw_step_args& a) {
  check_adamw_hyperparameters(a);
  const auto records = read_param_records(a.params, a.count, a.param_size, MSW_SIZE_THROUGH(msw_adamw_param, exp_avg_sq),
                                   "exp_avg_sq");
  std::vector<kc::AdamWTensor> tensors(records.size());
  for (size_t i = 0; i < records.size(); ++i) {
    const msw_adamw_param& r = records[i];
    kc::AdamWTensor& t = tensors[i];
    t.param = require_update_f32(r.param, param_field(i, "param"), ctx.device, nullptr);
    t.grad = require_update_f32(r.grad, param_field(i, "grad"), ctx.device, &r.param);
    t.exp_avg = require_update_f32(r.exp_avg, param_field(i, "exp_avg"), ctx.device, &r.param);
    t.exp_avg_sq = require_update_f32(r.exp_avg_sq, param_field(i, "exp_avg_sq"), ctx.device, &r.param);
    t.n = msw_tensor_numel(&r.param);
    t.lr = effective_lr(a.lr, r.lr_mult);
    t.weight_decay = r.apply_weight_decay ? a.weight_decay : 0.0;
  }
  const kc::StepScalars scalars = step_scalars(ctx, a.grad_scale, a.found_inf);
  kc::AdamWHyper h;
  h.beta1 = a.beta1;
  h.beta2 = a.beta2;
  h.eps = a.eps;
  h.step = a.step;
  if (tensors.empty()) return;
  use_device(ctx);
  kc::adamw_step(tensors.data(), static_cast<int64_t>(tensors.size()), h, scalars, stream_of(ctx));
}

void sgd_step(Ctx ctx, const msw_sgd_step_args& a) {
  check_sgd_hyperparameters(a);
  const bool use_momentum = a.momentum != 0.0;
  const auto records =
      read_param_records(a.params, a.count, a.param_size, MSW_SIZE_THROUGH(msw_sgd_param, momentum_buffer), "momentum_buffer");
  std::vector<kc::SgdTensor> tensors(records.size());
  for (size_t i = 0; i < records.size(); ++i) {
    const msw_sgd_param& r = records[i];
    kc::SgdTensor& t = tensors[i];
    t.param = require_update_f32(r.param, param_field(i, "param"), ctx.device, nullptr);
    t.grad = require_update_f32(r.grad, param_field(i, "grad"), ctx.device, &r.param);
    // With momentum 0 torch keeps no buffer, so none is needed (one given is left alone).
    if (use_momentum)
      t.momentum_buffer = require_update_f32(r.momentum_buffer, param_field(i, "momentum_buffer"), ctx.device, &r.param);
    t.n = msw_tensor_numel(&r.param);
    t.lr = effective_lr(a.lr, r.lr_mult);
    t.weight_decay = r.apply_weight_decay ? a.weight_decay : 0.0;
  }
  const kc::StepScalars scalars = step_scalars(ctx, a.grad_scale, a.found_inf);
  kc::SgdHyper h;
  h.momentum = a.momentum;
  h.first_step = a.step == 1;
  if (tensors.empty()) return;
  use_device(ctx);
  kc::sgd_step(tensors.data(), static_cast<int64_t>(tensors.size()), h, scalars, stream_of(ctx));
}

}  // namespace megaswift::host::ops::cuda_impl::dense
