// What both backends check in the optimizer updates' arguments (ops.h): the records array read through each
// record's struct_size, the f32 tensors a record names, and the hyperparameters. The backends differ only in
// how they run the update (and read grad_scale / found_inf: the CPU on the host, the GPU on the device).
#pragma once

#include "host/ops/tensor_args.hpp"

#include <megaswift/c/ops.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <string>
#include <vector>

namespace megaswift::host::ops {

// `count` records of `elem_size` bytes, each copied through min(its struct_size, elem_size) into a zeroed R, so
// a caller of an older minor (a shorter record) reads as zero past what it wrote. `last` names the last member
// every record must hold.
template <class R>
std::vector<R> read_param_records(const R* base, size_t count, size_t elem_size, size_t required, const char* last) {
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

inline std::string param_field(size_t i, const char* member) { return "params[" + std::to_string(i) + "]." + member; }

// A tensor the update reads or writes in place: given, F32, dense, on the call's device, and (for everything
// but the param itself) of the param's shape. Returns its element pointer.
inline float* require_update_f32(const msw_tensor& t, const std::string& name, const msw_device& device,
                                 const msw_tensor* like) {
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

inline void require_finite(double v, const char* name) {
  if (!std::isfinite(v)) fail(MSW_STATUS_INVALID_ARGUMENT, std::string(name) + " is " + std::to_string(v) + ", expected a finite number");
}

inline double effective_lr(double lr, double lr_mult) { return lr * (lr_mult == 0.0 ? 1.0 : lr_mult); }

inline void check_adamw_hyperparameters(const msw_adamw_step_args& a) {
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
}

inline void check_sgd_hyperparameters(const msw_sgd_step_args& a) {
  require_finite(a.lr, "lr");
  require_finite(a.weight_decay, "weight_decay");
  if (!(a.momentum >= 0) || !std::isfinite(a.momentum))
    fail(MSW_STATUS_INVALID_ARGUMENT, "momentum " + std::to_string(a.momentum) + " must be a finite number >= 0");
  if (a.step < 1) fail(MSW_STATUS_INVALID_ARGUMENT, "step " + std::to_string(a.step) + " must be >= 1 (1-based)");
}

}  // namespace megaswift::host::ops
