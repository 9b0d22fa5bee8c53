// The rotate-half rotation of one 16-byte pack of pairs, shared by rope_apply and the QKV split that carries
// RoPE, so both give the bits of kernels/cpu's loop: per pair y1 = x1 c - x2 s and y2 = x2 c + x1 s with s = sign *
// sin, each product rounded on its own (no FMA contraction), as the CPU computes them.
#pragma once

#include <kernels/cuda/vec.cuh>

#include <cstdint>

namespace megaswift::kernels::cuda::rope_detail {

// Pairs (x[x1 + e], x[x2 + e]) for e < kPack<T> into (y[y1 + e], y[y2 + e]), with cos_row[e] and sin_row[e]
// (16-byte aligned, like every x and y position).
template <class T>
__device__ __forceinline__ void rotate_pack(const T* x, int64_t x1, int64_t x2, T* y, int64_t y1, int64_t y2,
                                            const float* cos_row, const float* sin_row, float sign) {
  constexpr int N = vec::kPack<T>;
  float c[N], s[N], a[N], b[N];
#pragma unroll
  for (int q = 0; q < N; q += 4) {
    const float4 cv = *reinterpret_cast<const float4*>(cos_row + q);
    const float4 sv = *reinterpret_cast<const float4*>(sin_row + q);
    c[q] = cv.x, c[q + 1] = cv.y, c[q + 2] = cv.z, c[q + 3] = cv.w;
    s[q] = sign * sv.x, s[q + 1] = sign * sv.y, s[q + 2] = sign * sv.z, s[q + 3] = sign * sv.w;
  }
  vec::load_pack(x, x1, a);
  vec::load_pack(x, x2, b);
  float ra[N], rb[N];
#pragma unroll
  for (int q = 0; q < N; ++q) {
    ra[q] = __fsub_rn(__fmul_rn(a[q], c[q]), __fmul_rn(b[q], s[q]));
    rb[q] = __fadd_rn(__fmul_rn(b[q], c[q]), __fmul_rn(a[q], s[q]));
  }
  vec::store_pack(y, y1, ra);
  vec::store_pack(y, y2, rb);
}

}  // namespace megaswift::kernels::cuda::rope_detail
