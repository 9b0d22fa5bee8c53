// RMSNorm over the last dimension (Llama, Qwen; also Qwen3's q_norm/k_norm over head_dim).
//
//   forward:  rstd[i] = 1 / sqrt(mean_j x[i,j]^2 + eps);  y[i,j] = weight[j] * (x[i,j] * rstd[i])
//             x (R, C), weight (C), y (R, C), rstd (R) saved for backward
//   backward: with xhat = x * rstd:
//             dx[i,j]      = rstd[i] * (weight[j]*dy[i,j] - xhat[i,j] * mean_j(weight*dy*xhat)[i])   written (=)
//             dweight[j]  += sum_i dy[i,j] * xhat[i,j]                                             ACCUMULATES (+=)
// R is every leading dimension flattened: hidden states (B, T, C) are (B*T, C); per-head q/k norm of
// q (B, T, H, D) is R = B*T*H rows of C = D. Sums of squares are taken in double. y may alias x;
// dx may alias dy; dx or dweight may be null to skip them.
#pragma once

#include <cstdint>

namespace megaswift::kernels::cpu {

void rmsnorm_forward(const float* x, const float* weight, float* y, float* rstd, int64_t rows, int64_t dim,
                     float eps);

void rmsnorm_backward(const float* x, const float* weight, const float* rstd, const float* dy, float* dx,
                      float* dweight, int64_t rows, int64_t dim);

}  // namespace megaswift::kernels::cpu
