// RMSNorm over the last dimension (Llama, Qwen; also Qwen3's q_norm/k_norm over head_dim).
//
//   forward:  rstd[i] = 1 / sqrt(mean_j x[i,j]^2 + eps);  y[i,j] = (offset + weight[j]) * (x[i,j] * rstd[i])
//             x (R, C), weight (C), y (R, C), rstd (R) saved for backward; offset (weight_offset) is 1 for
//             Gemma's zero-centred weights, 0 otherwise
//   backward: with xhat = x * rstd and w' = offset + weight:
//             dx[i,j]      = rstd[i] * (w'[j]*dy[i,j] - xhat[i,j] * mean_j(w'*dy*xhat)[i])   written (=), or
//                            added (+=) with accumulate_dx
//             dweight[j]  += sum_i dy[i,j] * xhat[i,j]                                    ACCUMULATES (+=)
// R is every leading dimension flattened: hidden states (B, T, C) are (B*T, C); per-head q/k norm of
// q (B, T, H, D) is R = B*T*H rows of C = D. Sums of squares are taken in double. y may alias x;
// dx may alias dy (also with accumulate_dx: each element is read before it is written); dx or dweight may be null to skip them.
#pragma once

#include <cstdint>

namespace megaswift::kernels::cpu {

void rmsnorm_forward(const float* x, const float* weight, float* y, float* rstd, int64_t rows, int64_t dim,
                     float eps, float weight_offset = 0.0f);

void rmsnorm_backward(const float* x, const float* weight, const float* rstd, const float* dy, float* dx,
                      float* dweight, int64_t rows, int64_t dim, float weight_offset = 0.0f,
                      bool accumulate_dx = false);

}  // namespace megaswift::kernels::cpu
