// adamw_step and sgd_step: the records are read through their element size and struct_size, every tensor is
// checked (F32, dense, on the call's device, the param's shape: the optimizer updates fp32 main weights in
// place, so nothing is staged), found_inf and grad_scale are read from their device scalars, and the whole
// list goes to one kernel call.
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

// `count` records of `elem_size` bytes, each copied through min(its struct_size, elem_size) into a zeroed R, so
// a caller of an older minor (a shorter record) reads as zero past what it wrote. `last` names the last member
// every record must hold.
template <class R>
std::vector<R> read_params(const R* base, size_t count, size_t elem_size, size_t required, const char* last) {
  if (count && !base) fail(MSW_STATUS_INVALID_ARGUMENT, "params is NULL but count is " + std::to_string(count));
  if (count && elem_size < required)
    fail(MSW_STATUS_INVALID_ARGUMENT, "param_size " + std::to_string(elem_size) + " is smaller than " +
                                          std::to_string(required) + ", the size that holds a record's members up to `" +
                                          last + "` (set param_size = sizeof the record)");
  std::vector<R> out(count);
  const char* bytes = reinterpret_cast<const char*>(base);
  for (size_t i = 0; i < count; ++i) {
    uint32_t size = 0;
    std::memcpy(&size, bytes + i * elem_size, sizeof size);
    if (size < required)
      fail(MSW_STATUS_INVALID_ARGUMENT, "params[" + std::to_string(i) + "].struct_size " + std::to_string(size) +
                                            " is smaller than " + std::to_string(required) +
                                            ", the size that holds the members up to `" + last +
                                            "` (set struct_size = sizeof the record)");
    std::memcpy(static_cast<void*>(&out[i]), bytes + i * elem_size, std::min({size_t{size}, elem_size, sizeof(R)}));
  }
  return out;
}

std::string field(size_t i, const char* member) { return "params[" + std::to_string(i) + "]." + member; }

// A tensor the update reads or writes in place: given, F32, dense, on the call's device, and (for everything
// but the param itself) of the param's shape.
float* require_f32(const msw_tensor& t, const std::string& name, const msw_device& device, const msw_tensor* like) {
  require(&t, name.c_str(), device, true, Strides::any);
  if (t.dtype != MSW_DTYPE_F32)
    fail(MSW_STATUS_SHAPE_MISMATCH, name + " is " + describe(t) +
                                        ": optimizer updates work on f32 tensors (fp32 main weights, gradients and "
                                        "state); convert it with ops.copy into an f32 buffer");
  if (!msw_tensor_is_contiguous(&t))
    fail(MSW_STATUS_INVALID_ARGUMENT, name + " " + describe(t) +
                                          " is not contiguous: optimizer updates take dense tensors (no staging of "
                                          "in-place updates)");
  if (like) {
    bool same = t.ndim == like->ndim;
    for (int32_t d = 0; same && d < t.ndim; ++d) same = t.shape[d] == like->shape[d];
    if (!same)
      fail(MSW_STATUS_SHAPE_MISMATCH, name + " is " + describe(t) + " but the param is " + describe(*like) +
                                          ": a parameter's gradient and state tensors have its shape");
  }
  return static_cast<float*>(static_cast<void*>(static_cast<char*>(t.data) + t.byte_offset));
}

void require_finite(double v, const char* name) {
  if (!std::isfinite(v)) fail(MSW_STATUS_INVALID_ARGUMENT, std::string(name) + " is " + std::to_string(v) + ", expected a finite number");
}

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

double effective_lr(double lr, double lr_mult) { return lr * (lr_mult == 0.0 ? 1.0 : lr_mult); }

}  // namespace

void adamw_step(Ctx ctx, const msw_adamw_step_args& a) {
  require_finite(a.lr, "lr");
  require_finite(a.weight_decay, "weight_decay");
  if (!(a.beta1 >= 0 && a.beta1 < 1) || !(a.beta2 >= 0 && a.beta2 < 1))
    fail(MSW_STATUS_INVALID_ARGUMENT, "beta1 " + std::to_string(a.beta1) + " and beta2 " + std::to_string(a.beta2) +
                                          " must lie in [0, 1) (1 makes the bias correction divide by zero)");
  if (!(a.eps >= 0) || !std::isfinite(a.eps))
    fail(MSW_STATUS_INVALID_ARGUMENT, "eps " + std::to_string(a.eps) + " must be a finite number >= 0");
  if (a.step < 1)
    fail(MSW_STATUS_INVALID_ARGUMENT, "step " + std::to_string(a.step) + " must be >= 1 (1-based: the bias correction "
                                                                         "of step 0 divides by zero)");
  const auto records = read_params(a.params, a.count, a.param_size, MSW_SIZE_THROUGH(msw_adamw_param, exp_avg_sq),
                                   "exp_avg_sq");
  std::vector<k::AdamWTensor> tensors(records.size());
  for (size_t i = 0; i < records.size(); ++i) {
    const msw_adamw_param& r = records[i];
    k::AdamWTensor& t = tensors[i];
    t.param = require_f32(r.param, field(i, "param"), ctx.device, nullptr);
    t.grad = require_f32(r.grad, field(i, "grad"), ctx.device, &r.param);
    t.exp_avg = require_f32(r.exp_avg, field(i, "exp_avg"), ctx.device, &r.param);
    t.exp_avg_sq = require_f32(r.exp_avg_sq, field(i, "exp_avg_sq"), ctx.device, &r.param);
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
  require_finite(a.lr, "lr");
  require_finite(a.weight_decay, "weight_decay");
  if (!(a.momentum >= 0) || !std::isfinite(a.momentum))
    fail(MSW_STATUS_INVALID_ARGUMENT, "momentum " + std::to_string(a.momentum) + " must be a finite number >= 0");
  if (a.step < 1) fail(MSW_STATUS_INVALID_ARGUMENT, "step " + std::to_string(a.step) + " must be >= 1 (1-based)");
  const bool use_momentum = a.momentum != 0.0;
  const auto records =
      read_params(a.params, a.count, a.param_size, MSW_SIZE_THROUGH(msw_sgd_param, momentum_buffer), "momentum_buffer");
  std::vector<k::SgdTensor> tensors(records.size());
  for (size_t i = 0; i < records.size(); ++i) {
    const msw_sgd_param& r = records[i];
    k::SgdTensor& t = tensors[i];
    t.param = require_f32(r.param, field(i, "param"), ctx.device, nullptr);
    t.grad = require_f32(r.grad, field(i, "grad"), ctx.device, &r.param);
    // With momentum 0 torch keeps no buffer, so none is needed (one given is left alone).
    if (use_momentum)
      t.momentum_buffer = require_f32(r.momentum_buffer, field(i, "momentum_buffer"), ctx.device, &r.param);
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
