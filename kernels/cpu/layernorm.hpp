// LayerNorm over the last dimension.
//
//   forward:  mean[i] = mean_j x[i,j];  rstd[i] = 1 / sqrt(mean_j (x[i,j]-mean[i])^2 + eps)
//             y[i,j] = (x[i,j] - mean[i]) * rstd[i] * weight[j] + bias[j]
//             x (R, C), weight (C), bias (C) or null, y (R, C), mean (R) and rstd (R) saved for backward
//   backward: with xhat = (x - mean) * rstd and g = weight * dy:
//             dx[i,j]     = rstd[i] * (g - mean_j(g)[i] - xhat * mean_j(g*xhat)[i])   written (=)
//             dweight[j] += sum_i dy[i,j] * xhat[i,j]                                ACCUMULATES (+=)
//             dbias[j]   += sum_i dy[i,j]                                            ACCUMULATES (+=)
// Statistics are taken in double. y may alias x; dx may alias dy; dx, dweight, dbias may be null.
#pragma once

#include <cstdint>

namespace megaswift::kernels::cpu {

void layernorm_forward(const float* x, const float* weight, const float* bias, float* y, float* mean, float* rstd,
                       int64_t rows, int64_t dim, float eps);

void layernorm_backward(const float* x, const float* weight, const float* mean, const float* rstd, const float* dy,
                        float* dx, float* dweight, float* dbias, int64_t rows, int64_t dim);

}  // namespace megaswift::kernels::cpu
