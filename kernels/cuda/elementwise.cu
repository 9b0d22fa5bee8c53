// Element-wise kernels (see elementwise.hpp): grid-stride loops over flat indices; the sum of squares is a
// two-pass reduction with a fixed grid so its order, and so its result, depend on n alone.
#include <kernels/cuda/common.cuh>
#include <kernels/cuda/elementwise.hpp>
#include <kernels/cuda/vec.cuh>

#include <cstdint>
#include <type_traits>

namespace megaswift::kernels::cuda {
namespace {

constexpr int kThreads = 256;
constexpr int kReduceBlocks = 1024;  // fixed: the reduction order must not depend on the GPU

template <class T>
__global__ void fill_kernel(T* out, int64_t n, float v) {
  for (int64_t i = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; i < n; i += int64_t(gridDim.x) * blockDim.x)
    store(out, i, v);
}

// fill in 16-byte stores where `out` is aligned; the n % kPack elements past the last pack element-wise.
template <class T>
__global__ void fill_packed(T* out, int64_t n, float v) {
  constexpr int N = vec::kPack<T>;
  float pack[N];
#pragma unroll
  for (int e = 0; e < N; ++e) pack[e] = v;
  const int64_t tid = blockIdx.x * int64_t(blockDim.x) + threadIdx.x, stride = int64_t(gridDim.x) * blockDim.x;
  const int64_t packed = n - n % N;
  for (int64_t i = tid * N; i < packed; i += stride * N) vec::store_pack(out, i, pack);
  for (int64_t i = packed + tid; i < n; i += stride) store(out, i, v);
}

template <class T>
__global__ void add_kernel(const T* a, const T* b, T* out, int64_t n, float alpha) {
  for (int64_t i = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; i < n; i += int64_t(gridDim.x) * blockDim.x)
    store(out, i, load(a, i) + alpha * load(b, i));
}

template <class D, class S>
__global__ void accumulate_kernel(D* dst, const S* src, int64_t n) {
  for (int64_t i = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; i < n; i += int64_t(gridDim.x) * blockDim.x)
    store(dst, i, load(dst, i) + load(src, i));
}

// The residual adds and accumulations (out == a, alpha 1: x + 1 * y is x + y exactly) of every layer in 16-byte
// packs (vec.cuh); n counts packs' elements, a multiple of the pack.
template <class T>
__global__ void add_packed(const T* a, const T* b, T* out, int64_t n, float alpha) {
  constexpr int N = vec::kPack<T>;
  for (int64_t i = (blockIdx.x * int64_t(blockDim.x) + threadIdx.x) * N; i < n; i += int64_t(gridDim.x) * blockDim.x * N) {
    float x[N], y[N];
    vec::load_pack(a, i, x);
    vec::load_pack(b, i, y);
#pragma unroll
    for (int e = 0; e < N; ++e) x[e] = x[e] + alpha * y[e];
    vec::store_pack(out, i, x);
  }
}

template <class T>
__global__ void scale_kernel(T* x, int64_t n, float s, const void* scale, bool scale_is_f64) {
  const float f = scale ? (scale_is_f64 ? static_cast<float>(*static_cast<const double*>(scale)) : *static_cast<const float*>(scale)) : s;
  for (int64_t i = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; i < n; i += int64_t(gridDim.x) * blockDim.x)
    store(x, i, load(x, i) * f);
}

// Block sum in shared memory, in a fixed tree order.
__device__ double block_sum(double v) {
  __shared__ double s[kThreads];
  s[threadIdx.x] = v;
  __syncthreads();
  for (int w = kThreads / 2; w > 0; w >>= 1) {
    if (threadIdx.x < w) s[threadIdx.x] += s[threadIdx.x + w];
    __syncthreads();
  }
  return s[0];
}

template <class T>
__global__ void sum_squares_partial_kernel(const T* x, int64_t n, double* partials) {
  double acc = 0;
  for (int64_t i = blockIdx.x * int64_t(kThreads) + threadIdx.x; i < n; i += int64_t(kReduceBlocks) * kThreads) {
    const double v = load(x, i);
    acc += v * v;
  }
  const double total = block_sum(acc);
  if (threadIdx.x == 0) partials[blockIdx.x] = total;
}

__global__ void sum_squares_final_kernel(const double* partials, void* out, bool out_is_f64, bool accumulate) {
  double acc = 0;
  for (int i = threadIdx.x; i < kReduceBlocks; i += kThreads) acc += partials[i];
  const double total = block_sum(acc);
  if (threadIdx.x != 0) return;
  if (out_is_f64) {
    double* o = static_cast<double*>(out);
    *o = (accumulate ? *o : 0.0) + total;
  } else {
    float* o = static_cast<float*>(out);
    *o = static_cast<float>((accumulate ? static_cast<double>(*o) : 0.0) + total);
  }
}

// ---- copy ----

struct CopyGeometry {
  int64_t shape[kCopyMaxDims];
  int64_t src_strides[kCopyMaxDims];
  int64_t dst_strides[kCopyMaxDims];
  int32_t ndim;
};

template <class T>
__device__ __forceinline__ double read_as_double(const void* p, int64_t i) { return static_cast<double>(static_cast<const T*>(p)[i]); }

__device__ double read_element(const void* p, CopyType t, int64_t i) {
  switch (t) {
    case CopyType::f32: return static_cast<const float*>(p)[i];
    case CopyType::bf16: return __bfloat162float(static_cast<const __nv_bfloat16*>(p)[i]);
    case CopyType::f16: return __half2float(static_cast<const __half*>(p)[i]);
    case CopyType::f64: return static_cast<const double*>(p)[i];
    case CopyType::i64: return read_as_double<int64_t>(p, i);
    case CopyType::i32: return read_as_double<int32_t>(p, i);
    case CopyType::i8: return read_as_double<int8_t>(p, i);
    case CopyType::u8: return read_as_double<uint8_t>(p, i);
    case CopyType::boolean: return static_cast<const uint8_t*>(p)[i] ? 1.0 : 0.0;
  }
  return 0;
}

__device__ void write_element(void* p, CopyType t, int64_t i, double v, int64_t iv, bool is_int) {
  switch (t) {
    case CopyType::f32: static_cast<float*>(p)[i] = static_cast<float>(v); return;
    case CopyType::bf16: static_cast<__nv_bfloat16*>(p)[i] = __float2bfloat16_rn(static_cast<float>(v)); return;
    case CopyType::f16: static_cast<__half*>(p)[i] = __float2half_rn(static_cast<float>(v)); return;
    case CopyType::f64: static_cast<double*>(p)[i] = v; return;
    case CopyType::i64: static_cast<int64_t*>(p)[i] = is_int ? iv : static_cast<int64_t>(v); return;
    case CopyType::i32: static_cast<int32_t*>(p)[i] = static_cast<int32_t>(is_int ? iv : static_cast<int64_t>(v)); return;
    case CopyType::i8: static_cast<int8_t*>(p)[i] = static_cast<int8_t>(is_int ? iv : static_cast<int64_t>(v)); return;
    case CopyType::u8: static_cast<uint8_t*>(p)[i] = static_cast<uint8_t>(is_int ? iv : static_cast<int64_t>(v)); return;
    case CopyType::boolean: static_cast<uint8_t*>(p)[i] = (is_int ? iv : static_cast<int64_t>(v)) != 0; return;
  }
}

__device__ bool is_integer(CopyType t) { return t == CopyType::i64 || t == CopyType::i32 || t == CopyType::i8 || t == CopyType::u8 || t == CopyType::boolean; }

__device__ int64_t read_integer(const void* p, CopyType t, int64_t i) {
  switch (t) {
    case CopyType::i64: return static_cast<const int64_t*>(p)[i];
    case CopyType::i32: return static_cast<const int32_t*>(p)[i];
    case CopyType::i8: return static_cast<const int8_t*>(p)[i];
    case CopyType::u8: return static_cast<const uint8_t*>(p)[i];
    case CopyType::boolean: return static_cast<const uint8_t*>(p)[i] != 0;
    default: return 0;
  }
}

__global__ void copy_kernel(const void* src, CopyType st, void* dst, CopyType dt, CopyGeometry g, int64_t n) {
  for (int64_t flat = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; flat < n; flat += int64_t(gridDim.x) * blockDim.x) {
    int64_t rem = flat, so = 0, d_o = 0;
    for (int32_t d = g.ndim - 1; d >= 0; --d) {
      const int64_t idx = rem % g.shape[d];
      rem /= g.shape[d];
      so += idx * g.src_strides[d];
      d_o += idx * g.dst_strides[d];
    }
    // Integers move as integers (an int64 id above 2^53 survives); floats through double.
    const bool ints = is_integer(st) && is_integer(dt);
    write_element(dst, dt, d_o, ints ? 0.0 : read_element(src, st, so), ints ? read_integer(src, st, so) : 0, ints);
  }
}

// Both sides dense in the same order and both 16-bit or 32-bit floats: a flat conversion (the mixed-precision
// runner's recast of every fp32 main weight into its bf16 copy after each step), without the general kernel's
// per-dimension index arithmetic and its detour through double. Rounding is the general kernel's: f32 -> 16-bit
// rounds to nearest even once; 16-bit -> f32 is exact.
template <class S, class D>
__global__ void convert_dense_kernel(const S* src, D* dst, int64_t n) {
  for (int64_t i = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; i < n; i += int64_t(gridDim.x) * blockDim.x)
    store(dst, i, load(src, i));
}

// The same conversion in 16-byte accesses on both sides (both pointers aligned): a thread converts a group of
// the larger pack's element count (8 for f32 <-> 16-bit), the elements past the last group element-wise.
template <class S, class D>
__global__ void convert_dense_packed(const S* src, D* dst, int64_t n) {
  constexpr int NS = vec::kPack<S>, ND = vec::kPack<D>, N = NS > ND ? NS : ND;
  const int64_t tid = blockIdx.x * int64_t(blockDim.x) + threadIdx.x, stride = int64_t(gridDim.x) * blockDim.x;
  const int64_t grouped = n - n % N;
  for (int64_t i = tid * N; i < grouped; i += stride * N) {
    float v[N];
#pragma unroll
    for (int q = 0; q < N; q += NS) {
      float part[NS];
      vec::load_pack(src, i + q, part);
#pragma unroll
      for (int e = 0; e < NS; ++e) v[q + e] = part[e];
    }
#pragma unroll
    for (int q = 0; q < N; q += ND) {
      float part[ND];
#pragma unroll
      for (int e = 0; e < ND; ++e) part[e] = v[q + e];
      vec::store_pack(dst, i + q, part);
    }
  }
  for (int64_t i = grouped + tid; i < n; i += stride) store(dst, i, load(src, i));
}

bool dense_row_major(const int64_t* shape, const int64_t* strides, int32_t ndim) {
  int64_t expect = 1;
  for (int32_t d = ndim - 1; d >= 0; --d) {
    if (shape[d] != 1 && strides[d] != expect) return false;
    expect *= shape[d];
  }
  return true;
}

bool float_storage(CopyType t) { return t == CopyType::f32 || t == CopyType::bf16 || t == CopyType::f16; }
Dtype dtype_of(CopyType t) { return t == CopyType::f32 ? Dtype::f32 : t == CopyType::bf16 ? Dtype::bf16 : Dtype::f16; }

}  // namespace

void fill(void* out, Dtype dtype, int64_t n, float value, Stream stream) {
  if (n <= 0) return;
  dispatch_dtype(dtype, [&](auto t) {
    using T = decltype(t);
    if (vec::aligned(out))
      fill_packed<T><<<blocks_for(n / vec::kPack<T> + 1, kThreads), kThreads, 0, stream_of(stream)>>>(static_cast<T*>(out),
                                                                                                    n, value);
    else
      fill_kernel<T><<<blocks_for(n, kThreads), kThreads, 0, stream_of(stream)>>>(static_cast<T*>(out), n, value);
  });
  check_launch("fill");
}

void add(const void* a, const void* b, void* out, Dtype dtype, int64_t n, float alpha, Stream stream) {
  if (n <= 0) return;
  dispatch_dtype(dtype, [&](auto t) {
    using T = decltype(t);
    if (vec::packable(a, n, sizeof(T)) && vec::packable(b, n, sizeof(T)) && vec::packable(out, n, sizeof(T))) {
      add_packed<T><<<blocks_for(n / vec::kPack<T>, kThreads), kThreads, 0, stream_of(stream)>>>(
          static_cast<const T*>(a), static_cast<const T*>(b), static_cast<T*>(out), n, alpha);
      return;
    }
    add_kernel<T><<<blocks_for(n, kThreads), kThreads, 0, stream_of(stream)>>>(static_cast<const T*>(a),
                                                                              static_cast<const T*>(b), static_cast<T*>(out), n, alpha);
  });
  check_launch("add");
}

void accumulate(void* dst, Dtype dst_dtype, const void* src, Dtype src_dtype, int64_t n, Stream stream) {
  if (n <= 0) return;
  dispatch_dtype(dst_dtype, [&](auto d) {
    dispatch_dtype(src_dtype, [&](auto s) {
      using D = decltype(d);
      using S = decltype(s);
      if constexpr (std::is_same_v<D, S>) {
        if (vec::packable(dst, n, sizeof(D)) && vec::packable(src, n, sizeof(D))) {
          add_packed<D><<<blocks_for(n / vec::kPack<D>, kThreads), kThreads, 0, stream_of(stream)>>>(
              static_cast<const D*>(dst), static_cast<const D*>(src), static_cast<D*>(dst), n, 1.0f);
          return;
        }
      }
      accumulate_kernel<D, S><<<blocks_for(n, kThreads), kThreads, 0, stream_of(stream)>>>(static_cast<D*>(dst),
                                                                                         static_cast<const S*>(src), n);
    });
  });
  check_launch("accumulate");
}

void scale(void* x, Dtype dtype, int64_t n, float s, const void* scale_ptr, bool scale_is_f64, Stream stream) {
  if (n <= 0) return;
  dispatch_dtype(dtype, [&](auto t) {
    using T = decltype(t);
    scale_kernel<T><<<blocks_for(n, kThreads), kThreads, 0, stream_of(stream)>>>(static_cast<T*>(x), n, s, scale_ptr,
                                                                                scale_is_f64);
  });
  check_launch("scale");
}

int64_t sum_squares_partials() { return kReduceBlocks; }

void sum_squares(const void* x, Dtype dtype, int64_t n, void* out, bool out_is_f64, bool accumulate, double* partials,
                 Stream stream) {
  dispatch_dtype(dtype, [&](auto t) {
    using T = decltype(t);
    sum_squares_partial_kernel<T><<<kReduceBlocks, kThreads, 0, stream_of(stream)>>>(static_cast<const T*>(x), n, partials);
  });
  sum_squares_final_kernel<<<1, kThreads, 0, stream_of(stream)>>>(partials, out, out_is_f64, accumulate);
  check_launch("sum_squares");
}

void copy(const void* src, CopyType src_type, const int64_t* src_strides, void* dst, CopyType dst_type,
          const int64_t* dst_strides, const int64_t* shape, int32_t ndim, Stream stream) {
  if (ndim < 0 || ndim > kCopyMaxDims) throw KernelError("copy: " + std::to_string(ndim) + " dimensions, at most 8");
  CopyGeometry g{};
  g.ndim = ndim;
  int64_t n = 1;
  for (int32_t d = 0; d < ndim; ++d) {
    g.shape[d] = shape[d];
    g.src_strides[d] = src_strides[d];
    g.dst_strides[d] = dst_strides[d];
    n *= shape[d];
  }
  if (n <= 0) return;
  if (float_storage(src_type) && float_storage(dst_type) && dense_row_major(shape, src_strides, ndim) &&
      dense_row_major(shape, dst_strides, ndim)) {
    dispatch_dtype(dtype_of(src_type), [&](auto s) {
      dispatch_dtype(dtype_of(dst_type), [&](auto d) {
        using S = decltype(s);
        using D = decltype(d);
        constexpr int N = vec::kPack<S> > vec::kPack<D> ? vec::kPack<S> : vec::kPack<D>;
        if (vec::aligned(src) && vec::aligned(dst))
          convert_dense_packed<S, D><<<blocks_for(n / N + 1, kThreads), kThreads, 0, stream_of(stream)>>>(
              static_cast<const S*>(src), static_cast<D*>(dst), n);
        else
          convert_dense_kernel<S, D><<<blocks_for(n, kThreads), kThreads, 0, stream_of(stream)>>>(
              static_cast<const S*>(src), static_cast<D*>(dst), n);
      });
    });
    check_launch("copy");
    return;
  }
  copy_kernel<<<blocks_for(n, kThreads), kThreads, 0, stream_of(stream)>>>(src, src_type, dst, dst_type, g, n);
  check_launch("copy");
}

}  // namespace megaswift::kernels::cuda
