// The CUDA side of every kernel file: loading and storing the storage types as fp32, dispatching a launcher on
// the dtype, grid sizes, and turning a launch error into KernelError.
#pragma once

#include <kernels/cuda/launch.hpp>

#include <cuda_bf16.h>
#include <cuda_fp16.h>
#include <cuda_runtime.h>

#include <cstdint>
#include <string>

namespace megaswift::kernels::cuda {

template <class T>
__device__ __forceinline__ float load(const T* p, int64_t i);
template <>
__device__ __forceinline__ float load<float>(const float* p, int64_t i) { return p[i]; }
template <>
__device__ __forceinline__ float load<__nv_bfloat16>(const __nv_bfloat16* p, int64_t i) { return __bfloat162float(p[i]); }
template <>
__device__ __forceinline__ float load<__half>(const __half* p, int64_t i) { return __half2float(p[i]); }

template <class T>
__device__ __forceinline__ void store(T* p, int64_t i, float v);
template <>
__device__ __forceinline__ void store<float>(float* p, int64_t i, float v) { p[i] = v; }
template <>
__device__ __forceinline__ void store<__nv_bfloat16>(__nv_bfloat16* p, int64_t i, float v) { p[i] = __float2bfloat16_rn(v); }
template <>
__device__ __forceinline__ void store<__half>(__half* p, int64_t i, float v) { p[i] = __float2half_rn(v); }

// Calls f(T{}) with T the storage type of `dtype`.
template <class F>
void dispatch_dtype(Dtype dtype, F&& f) {
  switch (dtype) {
    case Dtype::f32: f(float{}); return;
    case Dtype::bf16: f(__nv_bfloat16{}); return;
    case Dtype::f16: f(__half{}); return;
  }
  throw KernelError("unknown dtype " + std::to_string(static_cast<int>(dtype)));
}

inline cudaStream_t stream_of(Stream s) { return static_cast<cudaStream_t>(s); }

inline unsigned blocks_for(int64_t n, int threads, int64_t cap = 65535LL * 32) {
  const int64_t b = (n + threads - 1) / threads;
  return static_cast<unsigned>(b < 1 ? 1 : (b > cap ? cap : b));
}

// After a launch: a configuration or earlier asynchronous error becomes KernelError naming the kernel.
inline void check_launch(const char* kernel) {
  const cudaError_t rc = cudaGetLastError();
  if (rc != cudaSuccess) throw KernelError(std::string(kernel) + ": " + cudaGetErrorString(rc));
}

}  // namespace megaswift::kernels::cuda
