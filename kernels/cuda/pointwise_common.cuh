// What the row-wise kernels of the pointwise family share (norms, rope, qkv split, activations, embedding):
// loads and stores of a storage type chosen at run time (norm weights and parameter gradients, whose dtype is
// independent of the activations': an f32 dweight beside bf16 activations is Megatron's fp32 main gradient), and
// a deterministic warp sum in double.
#pragma once

#include <kernels/cuda/common.cuh>

#include <cstdint>

// In their own namespace: other kernel families may define helpers of the same names.
namespace megaswift::kernels::cuda::pointwise {

// A load/store through a dtype known only at run time: the branch is uniform over the grid, so it costs a few
// instructions per element and saves instantiating every kernel for every (activation, weight) dtype pair.
__device__ __forceinline__ float load_dyn(const void* p, Dtype d, int64_t i) {
  switch (d) {
    case Dtype::f32: return static_cast<const float*>(p)[i];
    case Dtype::bf16: return __bfloat162float(static_cast<const __nv_bfloat16*>(p)[i]);
    default: return __half2float(static_cast<const __half*>(p)[i]);
  }
}

__device__ __forceinline__ void store_dyn(void* p, Dtype d, int64_t i, float v) {
  switch (d) {
    case Dtype::f32: static_cast<float*>(p)[i] = v; return;
    case Dtype::bf16: static_cast<__nv_bfloat16*>(p)[i] = __float2bfloat16_rn(v); return;
    default: static_cast<__half*>(p)[i] = __float2half_rn(v); return;
  }
}

// v rounded to the storage type T and widened back: the value a store of v followed by a load gives.
template <class T>
__device__ __forceinline__ float round_to(float v) {
  T tmp[1];
  store(tmp, 0, v);
  return load(tmp, 0);
}

// Sum over the 32 lanes of a warp by a fixed butterfly: every lane gets the same value, and the order of the
// additions depends on nothing but the lane values (deterministic).
__device__ __forceinline__ double warp_sum(double v) {
  for (int offset = 16; offset > 0; offset >>= 1) v += __shfl_xor_sync(0xffffffffu, v, offset);
  return v;
}

constexpr int kWarp = 32;

}  // namespace megaswift::kernels::cuda::pointwise
