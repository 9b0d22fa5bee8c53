// Multi-tensor optimizer updates of fp32 weights, in place (the ops table's adamw_step and sgd_step).
//
//   adamw_step (torch.optim.AdamW, amsgrad off), per tensor with g = grad * grad_scale:
//     param      *= 1 - lr * weight_decay
//     exp_avg     = beta1 * exp_avg + (1 - beta1) * g
//     exp_avg_sq  = beta2 * exp_avg_sq + (1 - beta2) * g * g
//     param      -= lr / (1 - beta1^step) * exp_avg / (sqrt(exp_avg_sq) / sqrt(1 - beta2^step) + eps)
//   sgd_step (torch.optim.SGD, no dampening, no Nesterov), per tensor with g = grad * grad_scale:
//     d = g + weight_decay * param
//     momentum_buffer = first_step ? d : momentum * momentum_buffer + d      (when momentum != 0)
//     param -= lr * (momentum != 0 ? momentum_buffer : d)
//
// lr and weight_decay are per tensor (the caller folds in the lr multiplier and decides the decay). Scalars
// are formed in double and rounded to float once, then every element is computed alone in float32 in the
// order of the formulas above (torch's order), so the results do not depend on the thread count or on how
// the tensors are grouped into calls.
#pragma once

#include <cstdint>

namespace megaswift::kernels::cpu {

struct AdamWTensor {
  float* param = nullptr;
  const float* grad = nullptr;
  float* exp_avg = nullptr;
  float* exp_avg_sq = nullptr;
  int64_t n = 0;
  double lr = 0;
  double weight_decay = 0;
};

struct AdamWHyper {
  double beta1 = 0.9;
  double beta2 = 0.999;
  double eps = 1e-8;
  int64_t step = 1;        // >= 1
  float grad_scale = 1.0f;
};

void adamw_step(const AdamWTensor* tensors, int64_t count, const AdamWHyper& hyper);

struct SgdTensor {
  float* param = nullptr;
  const float* grad = nullptr;
  float* momentum_buffer = nullptr;  // may be null when momentum is 0
  int64_t n = 0;
  double lr = 0;
  double weight_decay = 0;
};

struct SgdHyper {
  double momentum = 0;
  bool first_step = false;  // the buffer starts as d (torch's first step)
  float grad_scale = 1.0f;
};

void sgd_step(const SgdTensor* tensors, int64_t count, const SgdHyper& hyper);

}  // namespace megaswift::kernels::cpu
