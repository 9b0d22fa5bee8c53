// adamw_step and sgd_step: the records are read through their element size and struct_size, every tensor is
// checked (F32, dense, on the call's device, the param's shape: the optimizer updates fp32 main weights in
// place, so nothing is staged), found_inf and grad_scale are read from their device scalars, and the whole
// list goes to one kernel call.
#include "host/ops/optimizer_args.hpp"
#include "host/ops/cpu_ops.hpp"
#include "host/ops/tensor_args.hpp"

#include "host/core/args.hpp"

#include "kernels/cpu/optimizer.hpp"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <string>
#include <vector>

namespace megaswift::host::ops::cpu_impl {

namespace k = megaswift::kernels::cpu;

namespace {


// found_inf set: the step changes nothing. grad_scale: the factor applied to every gradient first.
bool skipped(Ctx ctx, const msw_tensor& found_inf) {
  const msw_tensor* t = opt(found_inf);
  return t && read_scalar(require_scalar(t, "found_inf", ctx.device, {MSW_DTYPE_F32, MSW_DTYPE_F64, MSW_DTYPE_I64})) != 0;
}
float grad_multiplier(Ctx ctx, const msw_tensor& grad_scale) {
  const msw_tensor* t = opt(grad_scale);
  return t ? static_cast<float>(read_scalar(require_scalar(t, "grad_scale", ctx.device, {MSW_DTYPE_F32, MSW_DTYPE_F64})))
           : 1.0f;
}


}  // namespace

void adamw_step(Ctx ctx, const msw_adamw_step_args& a) {
  check_adamw_hyperparameters(a);
  const auto records = read_param_records(a.params, a.count, a.param_size, MSW_SIZE_THROUGH(msw_adamw_param, exp_avg_sq),
                                   "exp_avg_sq");
  std::vector<k::AdamWTensor> tensors(records.size());
  for (size_t i = 0; i < records.size(); ++i) {
    const msw_adamw_param& r = records[i];
    k::AdamWTensor& t = tensors[i];
    t.param = require_update_f32(r.param, param_field(i, "param"), ctx.device, nullptr);
    t.grad = require_update_f32(r.grad, param_field(i, "grad"), ctx.device, &r.param);
    t.exp_avg = require_update_f32(r.exp_avg, param_field(i, "exp_avg"), ctx.device, &r.param);
    t.exp_avg_sq = require_update_f32(r.exp_avg_sq, param_field(i, "exp_avg_sq"), ctx.device, &r.param);
    t.n = msw_tensor_numel(&r.param);
    t.lr = effective_lr(a.lr, r.lr_mult);
    t.weight_decay = r.apply_weight_decay ? a.weight_decay : 0.0;
  }
  k::AdamWHyper h;
  h.beta1 = a.beta1;
  h.beta2 = a.beta2;
  h.eps = a.eps;
  h.step = a.step;
  h.grad_scale = grad_multiplier(ctx, a.grad_scale);
  // Read after every check, so a bad call fails the same way whether or not this step is skipped.
  if (skipped(ctx, a.found_inf)) return;
  k::adamw_step(tensors.data(), static_cast<int64_t>(tensors.size()), h);
}

void sgd_step(Ctx ctx, const msw_sgd_step_args& a) {
  check_sgd_hyperparameters(a);
  const bool use_momentum = a.momentum != 0.0;
  const auto records =
      read_param_records(a.params, a.count, a.param_size, MSW_SIZE_THROUGH(msw_sgd_param, momentum_buffer), "momentum_buffer");
  std::vector<k::SgdTensor> tensors(records.size());
  for (size_t i = 0; i < records.size(); ++i) {
    const msw_sgd_param& r = records[i];
    k::SgdTensor& t = tensors[i];
    t.param = require_update_f32(r.param, param_field(i, "param"), ctx.device, nullptr);
    t.grad = require_update_f32(r.grad, param_field(i, "grad"), ctx.device, &r.param);
    // With momentum 0 torch keeps no buffer, so none is needed (one given is left alone).
    if (use_momentum)
      t.momentum_buffer = require_update_f32(r.momentum_buffer, param_field(i, "momentum_buffer"), ctx.device, &r.param);
    t.n = msw_tensor_numel(&r.param);
    t.lr = effective_lr(a.lr, r.lr_mult);
    t.weight_decay = r.apply_weight_decay ? a.weight_decay : 0.0;
  }
  k::SgdHyper h;
  h.momentum = a.momentum;
  h.first_step = a.step == 1;
  h.grad_scale = grad_multiplier(ctx, a.grad_scale);
  if (skipped(ctx, a.found_inf)) return;
  k::sgd_step(tensors.data(), static_cast<int64_t>(tensors.size()), h);
}

}  // namespace megaswift::host::ops::cpu_impl
