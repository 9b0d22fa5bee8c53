// RMSNorm (with a weight offset, Gemma's zero-centred weights, and an optional fused residual add) and LayerNorm
// over the last dimension, forward and backward, with the numerics of kernels/cpu/rmsnorm.cpp and layernorm.cpp:
// row statistics summed in double, rstd = float(1 / sqrt(mean + double(float(eps)))), the element formulas in fp32
// in the CPU's order. Activations (x, residual, x_out, y, dy, dx) share the storage type `dtype`; the weight, bias
// and their gradients each have their own (`*_dtype`). rstd and mean are F32. Every tensor is dense (R, C).
//
// Parameter gradients ACCUMULATE (dweight[j] += float(sum_i ...)): each row block of norm_partial_blocks(rows)
// sums its rows per column in double into `partials` (scratch of norm_partials_doubles() doubles), then one pass
// adds the block partials in block order. The grouping depends on rows alone, so the result is the same on every
// run and GPU (no float atomics).
#pragma once

#include <kernels/cuda/launch.hpp>

#include <cstdint>

namespace megaswift::kernels::cuda {

// Doubles of scratch the backward passes need for `params` reduced parameter gradients (1: dweight; 2: dweight
// and dbias) of an (rows, dim) norm.
int64_t norm_partials_doubles(int64_t rows, int64_t dim, int params);

// y = (weight_offset + weight) * x * rstd, rstd = 1/sqrt(mean(x^2) + eps). With `residual` (non-null), x_out
// receives x + residual rounded to dtype first and the norm is taken of that stored sum. y may alias x; x_out may
// alias x or residual.
void rmsnorm_forward(const void* x, const void* residual, void* x_out, const void* weight, Dtype weight_dtype, void* y,
                     float* rstd, Dtype dtype, int64_t rows, int64_t dim, float eps, float weight_offset, Stream stream);

// dx (null: skipped) written, or added to with accumulate_dx; dweight (null: skipped) += sum_i dy * x * rstd.
// dx may alias dy (dweight is reduced first).
void rmsnorm_backward(const void* x, const void* weight, Dtype weight_dtype, const float* rstd, const void* dy, void* dx,
                      void* dweight, Dtype dweight_dtype, Dtype dtype, int64_t rows, int64_t dim, float weight_offset,
                      bool accumulate_dx, double* partials, Stream stream);

// y = (x - mean) * rstd * weight + bias (bias null: none); mean and rstd saved. y may alias x.
void layernorm_forward(const void* x, const void* weight, Dtype weight_dtype, const void* bias, Dtype bias_dtype,
                       void* y, float* mean, float* rstd, Dtype dtype, int64_t rows, int64_t dim, float eps,
                       Stream stream);

// dx written; dweight += sum_i dy * xhat, dbias += sum_i dy; each may be null. dx may alias dy.
void layernorm_backward(const void* x, const void* weight, Dtype weight_dtype, const float* mean, const float* rstd,
                        const void* dy, void* dx, void* dweight, Dtype dweight_dtype, void* dbias, Dtype dbias_dtype,
                        Dtype dtype, int64_t rows, int64_t dim, double* partials, Stream stream);

}  // namespace megaswift::kernels::cuda
