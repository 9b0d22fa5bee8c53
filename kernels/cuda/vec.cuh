// 16-byte packs of a storage type, for the memory-bound kernels: one load or store instruction moves 8 bf16/f16 or
// 4 f32 elements, where element-wise accesses of 2 bytes leave most of each memory transaction unused. A kernel
// takes the packed path only where every tensor it touches is 16-byte aligned and the packed dimension is a
// multiple of the pack (packable()); the scalar kernel serves the rest, so results never depend on which ran.
#pragma once

#include <kernels/cuda/common.cuh>

#include <cstdint>

namespace megaswift::kernels::cuda::vec {

template <class T>
inline constexpr int kPack = 16 / static_cast<int>(sizeof(T));

// The pack of p[i .. i + kPack) widened to fp32 (p + i 16-byte aligned).
template <class T>
__device__ __forceinline__ void load_pack(const T* p, int64_t i, float (&out)[kPack<T>]) {
  const uint4 raw = *reinterpret_cast<const uint4*>(p + i);
  const T* e = reinterpret_cast<const T*>(&raw);
#pragma unroll
  for (int j = 0; j < kPack<T>; ++j) out[j] = load(e, j);
}

template <class T>
__device__ __forceinline__ void store_pack(T* p, int64_t i, const float (&v)[kPack<T>]) {
  uint4 raw;
  T* e = reinterpret_cast<T*>(&raw);
#pragma unroll
  for (int j = 0; j < kPack<T>; ++j) store(e, j, v[j]);
  *reinterpret_cast<uint4*>(p + i) = raw;
}

// Host side: whether `p` may be read or written in 16-byte packs.
inline bool aligned(const void* p) { return reinterpret_cast<uintptr_t>(p) % 16 == 0; }

// Host side: the packed path applies to `p` when it is 16-byte aligned and `count` (the packed dimension, in
// elements) is a multiple of the pack.
inline bool packable(const void* p, int64_t count, int elem_bytes) {
  return aligned(p) && count % (16 / elem_bytes) == 0;
}

}  // namespace megaswift::kernels::cuda::vec
