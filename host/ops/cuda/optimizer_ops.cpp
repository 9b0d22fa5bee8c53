// adamw_step and sgd_step on the GPU (kernels/cuda/optimizer.hpp) with the CPU backend's checks
// (host/ops/optimizer.cpp): the records (host memory describing device tensors) are read through their element
// size and struct_size, every tensor is checked before anything is launched, and grad_scale / found_inf stay on
// the device, read by the kernels (found_inf != 0 makes every kernel return at once), so nothing synchronises.
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

// `count` records of `elem_size` bytes, each copied through min(its struct_size, elem_size) into a zeroed R, so
// a caller of an older minor (a shorter record) reads as zero past what it wrote. `last` names the last member
// every record must hold. (The CPU backend's reading, word for word.)
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
  return static_cast<float*>(data_of(t));
}

void require_finite(double v, const char* name) {
  if (!std::isfinite(v)) fail(MSW_STATUS_INVALID_ARGUMENT, std::string(name) + " is " + std::to_string(v) + ", expected a finite number");
}

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
  std::vector<kc::AdamWTensor> tensors(records.size());
  for (size_t i = 0; i < records.size(); ++i) {
    const msw_adamw_param& r = records[i];
    kc::AdamWTensor& t = tensors[i];
    t.param = require_f32(r.param, field(i, "param"), ctx.device, nullptr);
    t.grad = require_f32(r.grad, field(i, "grad"), ctx.device, &r.param);
    t.exp_avg = require_f32(r.exp_avg, field(i, "exp_avg"), ctx.device, &r.param);
    t.exp_avg_sq = require_f32(r.exp_avg_sq, field(i, "exp_avg_sq"), ctx.device, &r.param);
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
  require_finite(a.lr, "lr");
  require_finite(a.weight_decay, "weight_decay");
  if (!(a.momentum >= 0) || !std::isfinite(a.momentum))
    fail(MSW_STATUS_INVALID_ARGUMENT, "momentum " + std::to_string(a.momentum) + " must be a finite number >= 0");
  if (a.step < 1) fail(MSW_STATUS_INVALID_ARGUMENT, "step " + std::to_string(a.step) + " must be >= 1 (1-based)");
  const bool use_momentum = a.momentum != 0.0;
  const auto records =
      read_params(a.params, a.count, a.param_size, MSW_SIZE_THROUGH(msw_sgd_param, momentum_buffer), "momentum_buffer");
  std::vector<kc::SgdTensor> tensors(records.size());
  for (size_t i = 0; i < records.size(); ++i) {
    const msw_sgd_param& r = records[i];
    kc::SgdTensor& t = tensors[i];
    t.param = require_f32(r.param, field(i, "param"), ctx.device, nullptr);
    t.grad = require_f32(r.grad, field(i, "grad"), ctx.device, &r.param);
    // With momentum 0 torch keeps no buffer, so none is needed (one given is left alone).
    if (use_momentum)
      t.momentum_buffer = require_f32(r.momentum_buffer, field(i, "momentum_buffer"), ctx.device, &r.param);
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
