// SwiGLU and GELU (see activation.hpp): grid-stride loops over elements, fp32 arithmetic; SwiGLU also in 16-byte
// packs where the tensors allow (the MLP's widest tensors: its time is memory traffic).
#include <kernels/cuda/activation.hpp>
#include <kernels/cuda/common.cuh>
#include <kernels/cuda/vec.cuh>

#include <algorithm>
#include <cstdint>

namespace megaswift::kernels::cuda {
namespace {

constexpr int kThreads = 256;

constexpr float kSqrt2OverPi = 0.7978845608028654f;  // sqrt(2/pi)
constexpr float kInvSqrt2 = 0.7071067811865476f;
constexpr float kInvSqrt2Pi = 0.3989422804014327f;  // 1/sqrt(2*pi)
constexpr float kCubic = 0.044715f;

__device__ __forceinline__ float sigmoid(float x) { return 1.0f / (1.0f + expf(-x)); }

template <class T>
__global__ void swiglu_forward_kernel(const T* x, T* out, int64_t rows, int64_t cols) {
  for (int64_t idx = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; idx < rows * cols; idx += int64_t(gridDim.x) * blockDim.x) {
    const int64_t i = idx / cols, j = idx % cols;
    const float g = load(x, i * 2 * cols + j), u = load(x, i * 2 * cols + cols + j);
    store(out, idx, g * sigmoid(g) * u);
  }
}

template <class T>
__global__ void swiglu_backward_kernel(const T* x, const T* dout, T* dx, int64_t rows, int64_t cols) {
  for (int64_t idx = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; idx < rows * cols; idx += int64_t(gridDim.x) * blockDim.x) {
    const int64_t i = idx / cols, j = idx % cols;
    const int64_t gi = i * 2 * cols + j, ui = gi + cols;
    const float g = load(x, gi), u = load(x, ui), d = load(dout, idx);
    const float s = sigmoid(g);
    store(dx, gi, d * u * (s * (1.0f + g * (1.0f - s))));
    store(dx, ui, d * (g * s));
  }
}

// The packed forms: a 2D grid (packs of a row in x, rows in y with a stride) so no thread divides a flat index by
// the row width, and 16-byte accesses (vec.cuh). Same arithmetic per element as the scalar kernels.
template <class T>
__global__ void swiglu_forward_packed(const T* x, T* out, int64_t rows, int64_t cols) {
  constexpr int N = vec::kPack<T>;
  const int64_t j = (blockIdx.x * int64_t(blockDim.x) + threadIdx.x) * N;
  if (j >= cols) return;
  for (int64_t i = blockIdx.y; i < rows; i += gridDim.y) {
    float g[N], u[N], o[N];
    vec::load_pack(x, i * 2 * cols + j, g);
    vec::load_pack(x, i * 2 * cols + cols + j, u);
#pragma unroll
    for (int e = 0; e < N; ++e) o[e] = g[e] * sigmoid(g[e]) * u[e];
    vec::store_pack(out, i * cols + j, o);
  }
}

template <class T>
__global__ void swiglu_backward_packed(const T* x, const T* dout, T* dx, int64_t rows, int64_t cols) {
  constexpr int N = vec::kPack<T>;
  const int64_t j = (blockIdx.x * int64_t(blockDim.x) + threadIdx.x) * N;
  if (j >= cols) return;
  for (int64_t i = blockIdx.y; i < rows; i += gridDim.y) {
    float g[N], u[N], d[N], dg[N], du[N];
    vec::load_pack(x, i * 2 * cols + j, g);
    vec::load_pack(x, i * 2 * cols + cols + j, u);
    vec::load_pack(dout, i * cols + j, d);
#pragma unroll
    for (int e = 0; e < N; ++e) {
      const float s = sigmoid(g[e]);
      dg[e] = d[e] * u[e] * (s * (1.0f + g[e] * (1.0f - s)));
      du[e] = d[e] * (g[e] * s);
    }
    vec::store_pack(dx, i * 2 * cols + j, dg);
    vec::store_pack(dx, i * 2 * cols + cols + j, du);
  }
}

// Blocks for a packed row kernel: x covers one row's packs, y the rows (capped; the kernels stride over the rest).
dim3 packed_grid(int64_t rows, int64_t cols, int pack) {
  const int64_t packs = (cols + pack - 1) / pack;
  return dim3(static_cast<unsigned>((packs + kThreads - 1) / kThreads),
              static_cast<unsigned>(std::min<int64_t>(rows, 65535)));
}

// 0.5*(1+erf(x/sqrt2)) as 0.5*erfc(-x/sqrt2) and 0.5*(1+tanh(u)) as sigmoid(2u), as the CPU kernel: the textbook
// forms cancel for negative x in fp32.
template <class T>
__global__ void gelu_forward_kernel(const T* x, T* y, int64_t n, bool tanh_approx) {
  for (int64_t idx = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; idx < n; idx += int64_t(gridDim.x) * blockDim.x) {
    const float v = load(x, idx);
    float r;
    if (tanh_approx) {
      const float u = kSqrt2OverPi * (v + kCubic * v * v * v);
      r = v / (1.0f + expf(-2.0f * u));
    } else {
      r = 0.5f * v * erfcf(-v * kInvSqrt2);
    }
    store(y, idx, r);
  }
}

template <class T>
__global__ void gelu_backward_kernel(const T* x, const T* dy, T* dx, int64_t n, bool tanh_approx) {
  for (int64_t idx = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; idx < n; idx += int64_t(gridDim.x) * blockDim.x) {
    const float v = load(x, idx);
    float grad;
    if (tanh_approx) {
      // d/dx [x * s(2u)] = s + x * 2 s (1 - s) u',  s = sigmoid(2u)
      const float u = kSqrt2OverPi * (v + kCubic * v * v * v);
      const float s = 1.0f / (1.0f + expf(-2.0f * u));
      const float du = kSqrt2OverPi * (1.0f + 3.0f * kCubic * v * v);
      grad = s + 2.0f * v * s * (1.0f - s) * du;
    } else {
      const float cdf = 0.5f * erfcf(-v * kInvSqrt2);
      const float pdf = kInvSqrt2Pi * expf(-0.5f * v * v);
      grad = cdf + v * pdf;
    }
    store(dx, idx, load(dy, idx) * grad);
  }
}

}  // namespace

void swiglu_forward(const void* x, void* out, Dtype dtype, int64_t rows, int64_t cols, Stream stream) {
  if (rows <= 0 || cols <= 0) return;
  dispatch_dtype(dtype, [&](auto t) {
    using T = decltype(t);
    constexpr int N = vec::kPack<T>;
    if (vec::packable(x, cols, sizeof(T)) && vec::packable(out, cols, sizeof(T))) {
      swiglu_forward_packed<T><<<packed_grid(rows, cols, N), kThreads, 0, stream_of(stream)>>>(
          static_cast<const T*>(x), static_cast<T*>(out), rows, cols);
      return;
    }
    swiglu_forward_kernel<T><<<blocks_for(rows * cols, kThreads), kThreads, 0, stream_of(stream)>>>(
        static_cast<const T*>(x), static_cast<T*>(out), rows, cols);
  });
  check_launch("swiglu_forward");
}

void swiglu_backward(const void* x, const void* dout, void* dx, Dtype dtype, int64_t rows, int64_t cols, Stream stream) {
  if (rows <= 0 || cols <= 0) return;
  dispatch_dtype(dtype, [&](auto t) {
    using T = decltype(t);
    constexpr int N = vec::kPack<T>;
    if (vec::packable(x, cols, sizeof(T)) && vec::packable(dout, cols, sizeof(T)) && vec::packable(dx, cols, sizeof(T))) {
      swiglu_backward_packed<T><<<packed_grid(rows, cols, N), kThreads, 0, stream_of(stream)>>>(
          static_cast<const T*>(x), static_cast<const T*>(dout), static_cast<T*>(dx), rows, cols);
      return;
    }
    swiglu_backward_kernel<T><<<blocks_for(rows * cols, kThreads), kThreads, 0, stream_of(stream)>>>(
        static_cast<const T*>(x), static_cast<const T*>(dout), static_cast<T*>(dx), rows, cols);
  });
  check_launch("swiglu_backward");
}

void gelu_forward(const void* x, void* y, Dtype dtype, int64_t n, bool tanh, Stream stream) {
  if (n <= 0) return;
  dispatch_dtype(dtype, [&](auto t) {
    using T = decltype(t);
    gelu_forward_kernel<T><<<blocks_for(n, kThreads), kThreads, 0, stream_of(stream)>>>(static_cast<const T*>(x),
                                                                                        static_cast<T*>(y), n, tanh);
  });
  check_launch("gelu_forward");
}

void gelu_backward(const void* x, const void* dy, void* dx, Dtype dtype, int64_t n, bool tanh, Stream stream) {
  if (n <= 0) return;
  dispatch_dtype(dtype, [&](auto t) {
    using T = decltype(t);
    gelu_backward_kernel<T><<<blocks_for(n, kThreads), kThreads, 0, stream_of(stream)>>>(
        static_cast<const T*>(x), static_cast<const T*>(dy), static_cast<T*>(dx), n, tanh);
  });
  check_launch("gelu_backward");
}

}  // namespace megaswift::kernels::cuda
