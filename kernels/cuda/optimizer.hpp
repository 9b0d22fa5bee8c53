// Multi-tensor optimizer updates of fp32 weights in place (the ops table's adamw_step and sgd_step; the CPU
// reference and the formulas are in kernels/cpu/optimizer.hpp).
//
// The tensor list is cut into batches of up to kOptimizerBatch tensors; each batch is one launch whose argument
// block carries the batch's pointers and per-tensor scalars (no upload, no host synchronisation), and every
// block of the grid updates one fixed chunk of one tensor. Scalars are formed in double on the host and rounded
// to float once, and each element is computed alone with the CPU's operations in the CPU's order (no fused
// multiply-add), so the results equal the CPU backend's bit for bit whatever the batching.
// grad_scale (F32/F64) and found_inf (F32/F64/I64) are device scalars the kernels read: found_inf != 0 leaves
// every tensor untouched.
#pragma once

#include <kernels/cuda/launch.hpp>

#include <cstdint>

namespace megaswift::kernels::cuda {

constexpr int kOptimizerBatch = 48;

enum class ScalarType : int32_t { none = 0, f32, f64, i64 };

struct StepScalars {
  const void* grad_scale = nullptr;  // F32 or F64 (grad_scale_type), or NULL for 1
  ScalarType grad_scale_type = ScalarType::none;
  const void* found_inf = nullptr;  // F32, F64 or I64, or NULL
  ScalarType found_inf_type = ScalarType::none;
};

struct AdamWTensor {
  float* param = nullptr;
  const float* grad = nullptr;
  float* exp_avg = nullptr;
  float* exp_avg_sq = nullptr;
  int64_t n = 0;
  double lr = 0;            // lr * lr_mult
  double weight_decay = 0;  // 0 when the tensor is not decayed
};

struct AdamWHyper {
  double beta1 = 0.9;
  double beta2 = 0.999;
  double eps = 1e-8;
  int64_t step = 1;  // >= 1
};

void adamw_step(const AdamWTensor* tensors, int64_t count, const AdamWHyper& hyper, const StepScalars& scalars,
                Stream stream);

struct SgdTensor {
  float* param = nullptr;
  const float* grad = nullptr;
  float* momentum_buffer = nullptr;  // NULL when momentum is 0
  int64_t n = 0;
  double lr = 0;
  double weight_decay = 0;
};

struct SgdHyper {
  double momentum = 0;
  bool first_step = false;  // the buffer starts as d (torch's first step)
};

void sgd_step(const SgdTensor* tensors, int64_t count, const SgdHyper& hyper, const StepScalars& scalars,
              Stream stream);

}  // namespace megaswift::kernels::cuda
