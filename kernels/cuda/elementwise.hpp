// Element-wise kernels and the one reduction the optimizer driver needs: fill, strided copy with dtype
// conversion, add, accumulate, scale (by a number or a device scalar), sum of squares into a device scalar.
#pragma once

#include <kernels/cuda/launch.hpp>

#include <cstdint>

namespace megaswift::kernels::cuda {

void fill(void* out, Dtype dtype, int64_t n, float value, Stream stream);
// out = a + alpha * b (out may alias a or b).
void add(const void* a, const void* b, void* out, Dtype dtype, int64_t n, float alpha, Stream stream);
// dst += src (their dtypes may differ).
void accumulate(void* dst, Dtype dst_dtype, const void* src, Dtype src_dtype, int64_t n, Stream stream);
// x *= s, or x *= *scale when scale is given (a device scalar, f32 when scale_is_f64 is false).
void scale(void* x, Dtype dtype, int64_t n, float s, const void* scale, bool scale_is_f64, Stream stream);
// *out (+)= sum of x^2, summed in double in an order fixed by n alone (so the same for every run): per-block
// partials over a fixed grid, then one block adds them in order. out is f32 or f64 (out_is_f64); `partials` is
// sum_squares_partials() doubles of device scratch.
int64_t sum_squares_partials();
void sum_squares(const void* x, Dtype dtype, int64_t n, void* out, bool out_is_f64, bool accumulate, double* partials,
                 Stream stream);

// Element types of copy: the floating storage types and the integer ones.
enum class CopyType : int32_t { f32, bf16, f16, f64, i64, i32, i8, u8, boolean };
constexpr int kCopyMaxDims = 8;
// dst[i] = src[i] for every multi-index of `shape` (ndim <= kCopyMaxDims) with element strides, converting the type
// (floats round to nearest even; float <-> integer is refused by the caller).
void copy(const void* src, CopyType src_type, const int64_t* src_strides, void* dst, CopyType dst_type,
          const int64_t* dst_strides, const int64_t* shape, int32_t ndim, Stream stream);

}  // namespace megaswift::kernels::cuda
