// Cross-entropy kernels (see cross_entropy.hpp): one block per row. The forward keeps, per thread, a running
// (max, sum of exp(x - max)) over its strided share of the row, then merges the threads' pairs in a fixed
// butterfly/tree order, so a row's lse depends on the row alone. Per-row losses go to scratch (double) and one
// block adds them in an order fixed by the row count.
//
// A thread's share of a row is groups of kPack<T> neighbouring elements (16 bytes), kRowThreads groups apart:
// where the row's start, its stride and the vocabulary allow it (ce_packed), every group is one 16-byte load
// (and store), else element by element in the same order, so the results do not depend on which ran. The
// logits are what these kernels move (a chunk of 3,500 tokens of a 151,936 vocabulary is 1 GiB of bf16): with
// 2-byte accesses the backward ran at ~1.4 TB/s of the H200's 4.8.
#include <kernels/cuda/common.cuh>
#include <kernels/cuda/cross_entropy.hpp>
#include <kernels/cuda/vec.cuh>

#include <cmath>
#include <cstdint>
#include <type_traits>

namespace megaswift::kernels::cuda {
namespace {

constexpr int kRowThreads = 256;
constexpr int kReduceThreads = 1024;
constexpr int kWarps = kRowThreads / 32;

__device__ __forceinline__ float load_any(const void* p, Dtype d, int64_t i) {
  switch (d) {
    case Dtype::f32: return load(static_cast<const float*>(p), i);
    case Dtype::bf16: return load(static_cast<const __nv_bfloat16*>(p), i);
    case Dtype::f16: return load(static_cast<const __half*>(p), i);
  }
  return 0.0f;
}

__device__ __forceinline__ void store_any(void* p, Dtype d, int64_t i, float v) {
  switch (d) {
    case Dtype::f32: store(static_cast<float*>(p), i, v); return;
    case Dtype::bf16: store(static_cast<__nv_bfloat16*>(p), i, v); return;
    case Dtype::f16: store(static_cast<__half*>(p), i, v); return;
  }
}

__device__ __forceinline__ int64_t label_of(const CeLabels& l, int64_t row) {
  return l.is_i32 ? static_cast<int64_t>(static_cast<const int32_t*>(l.data)[row]) : static_cast<const int64_t*>(l.data)[row];
}

// (m, s) with s = sum exp(x - m): merging two such pairs. A pair with m = -inf holds nothing (s = 0).
__device__ __forceinline__ void merge(float& m, float& s, float m2, float s2) {
  if (m2 > m) {
    const float t = m;
    m = m2;
    m2 = t;
    const float u = s;
    s = s2;
    s2 = u;
  }
  if (m2 != -INFINITY) s += s2 * expf(m2 - m);
}

// Calls f(v, x) for the thread's elements of a row of `vocab` in order: groups of kPack<T> at
// kPack<T> * (threadIdx.x + kRowThreads * n), each one 16-byte load when kPacked.
template <bool kPacked, class T, class F>
__device__ __forceinline__ void for_own_elements(const T* l, int64_t vocab, F&& f) {
  constexpr int P = vec::kPack<T>;
  for (int64_t base = int64_t(threadIdx.x) * P; base < vocab; base += int64_t(kRowThreads) * P) {
    if constexpr (kPacked) {
      float x[P];
      vec::load_pack(l, base, x);
#pragma unroll
      for (int j = 0; j < P; ++j) f(base + j, x[j]);
    } else {
      for (int64_t v = base; v < base + P && v < vocab; ++v) f(v, load(l, v));
    }
  }
}

template <class T, bool kPacked>
__global__ void __launch_bounds__(kRowThreads) ce_forward_kernel(const T* logits, int64_t vocab, int64_t ld, CeLabels labels,
                                                                 void* lse, Dtype lse_dtype, void* per_token_loss,
                                                                 Dtype ptl_dtype, double* row_loss) {
  const int64_t row = blockIdx.x;
  const T* l = logits + row * ld;
  float m = -INFINITY, s = 0.0f;
  for_own_elements<kPacked>(l, vocab, [&](int64_t, float x) {
    if (x > m) {
      s = s * expf(m - x) + 1.0f;
      m = x;
    } else {
      s += expf(x - m);  // NaN logits propagate (x > m is false for NaN)
    }
  });
  for (int off = 16; off > 0; off >>= 1) {
    const float m2 = __shfl_xor_sync(0xffffffffu, m, off);
    const float s2 = __shfl_xor_sync(0xffffffffu, s, off);
    merge(m, s, m2, s2);
  }
  __shared__ float wm[kWarps], ws[kWarps];
  const int warp = threadIdx.x / 32, lane = threadIdx.x % 32;
  if (lane == 0) {
    wm[warp] = m;
    ws[warp] = s;
  }
  __syncthreads();
  if (threadIdx.x != 0) return;
  m = wm[0];
  s = ws[0];
  for (int w = 1; w < kWarps; ++w) merge(m, s, wm[w], ws[w]);
  const double row_lse = static_cast<double>(m) + log(static_cast<double>(s));
  store_any(lse, lse_dtype, row, static_cast<float>(row_lse));
  const int64_t y = label_of(labels, row);
  double loss = 0.0;
  if (y != labels.ignore_index) {
    const int64_t col = y - labels.vocab_start;
    loss = col >= 0 && col < vocab ? row_lse - static_cast<double>(load(l, col)) : static_cast<double>(NAN);
  }
  if (per_token_loss) store_any(per_token_loss, ptl_dtype, row, static_cast<float>(loss));
  if (row_loss) row_loss[row] = loss;
}

// loss_sum += sum of the counted rows' losses, count += the counted rows, in an order fixed by `rows`.
__global__ void __launch_bounds__(kReduceThreads) ce_total_kernel(const double* row_loss, CeLabels labels, int64_t rows,
                                                                  DeviceScalar loss_sum, int64_t* count) {
  double acc = 0.0;
  long long counted = 0;
  for (int64_t i = threadIdx.x; i < rows; i += kReduceThreads) {
    if (label_of(labels, i) == labels.ignore_index) continue;
    acc += row_loss[i];
    ++counted;
  }
  __shared__ double sa[kReduceThreads];
  __shared__ long long sc[kReduceThreads];
  sa[threadIdx.x] = acc;
  sc[threadIdx.x] = counted;
  __syncthreads();
  for (int w = kReduceThreads / 2; w > 0; w >>= 1) {
    if (threadIdx.x < w) {
      sa[threadIdx.x] += sa[threadIdx.x + w];
      sc[threadIdx.x] += sc[threadIdx.x + w];
    }
    __syncthreads();
  }
  if (threadIdx.x != 0) return;
  if (loss_sum.data) {
    // As the CPU backend: the scalar read as double, the sum added, rounded once to its dtype.
    if (loss_sum.is_f64) {
      double* p = static_cast<double*>(loss_sum.data);
      *p = *p + sa[0];
    } else {
      float* p = static_cast<float*>(loss_sum.data);
      *p = static_cast<float>(static_cast<double>(*p) + sa[0]);
    }
  }
  if (count) *count += sc[0];
}

template <class T, class G, bool kPacked>
__global__ void __launch_bounds__(kRowThreads) ce_backward_kernel(const T* logits, int64_t vocab, int64_t ld, CeLabels labels,
                                                                  const void* lse, Dtype lse_dtype, float grad_scale,
                                                                  DeviceScalar grad_scale_tensor, G* dlogits, int64_t dld) {
  const int64_t row = blockIdx.x;
  const T* l = logits + row * ld;
  G* d = dlogits + row * dld;
  const int64_t y = label_of(labels, row);
  constexpr int P = vec::kPack<T>;
  if (y == labels.ignore_index) {
    if constexpr (kPacked) {
      const float zero[P] = {};
      for (int64_t base = int64_t(threadIdx.x) * P; base < vocab; base += int64_t(kRowThreads) * P) vec::store_pack(d, base, zero);
    } else {
      for (int64_t v = threadIdx.x; v < vocab; v += kRowThreads) store(d, v, 0.0f);
    }
    return;
  }
  const float scale = grad_scale_tensor.data ? (grad_scale_tensor.is_f64
                                                    ? static_cast<float>(*static_cast<const double*>(grad_scale_tensor.data))
                                                    : *static_cast<const float*>(grad_scale_tensor.data))
                                             : grad_scale;
  const float row_lse = load_any(lse, lse_dtype, row);
  const int64_t col = y - labels.vocab_start;
  const bool valid = col >= 0 && col < vocab;
  // The CPU's order: exp * scale, then the target's scale subtracted (no fused multiply-add).
  auto grad = [&](int64_t v, float x) {
    float g = __fmul_rn(expf(x - row_lse), scale);
    if (v == col) g = __fsub_rn(g, scale);
    return valid ? g : NAN;
  };
  // Each element read and written by the same thread (dlogits may alias logits): packed, a group at a time.
  if constexpr (kPacked) {
    for (int64_t base = int64_t(threadIdx.x) * P; base < vocab; base += int64_t(kRowThreads) * P) {
      float x[P];
      vec::load_pack(l, base, x);
#pragma unroll
      for (int j = 0; j < P; ++j) x[j] = grad(base + j, x[j]);
      vec::store_pack(d, base, x);
    }
  } else {
    for (int64_t v = threadIdx.x; v < vocab; v += kRowThreads) store(d, v, grad(v, load(l, v)));
  }
}

// Whether every row of m starts 16-byte aligned and the rows hold whole groups (the packed kernels' condition).
bool ce_packed(const Matrix& m, size_t elem_bytes) {
  const int e = static_cast<int>(elem_bytes);
  return vec::packable(m.data, m.cols, e) && m.ld % (16 / e) == 0;
}

}  // namespace

void cross_entropy_forward(const Matrix& logits, const CeLabels& labels, void* lse, Dtype lse_dtype,
                           void* per_token_loss, Dtype per_token_loss_dtype, DeviceScalar loss_sum, int64_t* count,
                           double* row_loss, Stream stream) {
  if (logits.rows <= 0) return;
  if (logits.rows > 0x7fffffffLL) throw KernelError("cross_entropy_forward: more than 2^31 - 1 rows");
  dispatch_dtype(logits.dtype, [&](auto t) {
    using T = decltype(t);
    auto launch = [&](auto kernel) {
      kernel<<<static_cast<unsigned>(logits.rows), kRowThreads, 0, stream_of(stream)>>>(
          static_cast<const T*>(logits.data), logits.cols, logits.ld, labels, lse, lse_dtype, per_token_loss,
          per_token_loss_dtype, row_loss);
    };
    if (ce_packed(logits, sizeof(T)))
      launch(ce_forward_kernel<T, true>);
    else
      launch(ce_forward_kernel<T, false>);
  });
  check_launch("cross_entropy_forward");
  if (!loss_sum.data && !count) return;
  ce_total_kernel<<<1, kReduceThreads, 0, stream_of(stream)>>>(row_loss, labels, logits.rows, loss_sum, count);
  check_launch("cross_entropy_forward (loss sum)");
}

void cross_entropy_backward(const Matrix& logits, const CeLabels& labels, const void* lse, Dtype lse_dtype,
                            float grad_scale, DeviceScalar grad_scale_tensor, const Matrix& dlogits, Stream stream) {
  if (logits.rows <= 0) return;
  if (logits.rows > 0x7fffffffLL) throw KernelError("cross_entropy_backward: more than 2^31 - 1 rows");
  dispatch_dtype(logits.dtype, [&](auto t) {
    dispatch_dtype(dlogits.dtype, [&](auto g) {
      using T = decltype(t);
      using G = decltype(g);
      auto launch = [&](auto kernel) {
        kernel<<<static_cast<unsigned>(logits.rows), kRowThreads, 0, stream_of(stream)>>>(
            static_cast<const T*>(logits.data), logits.cols, logits.ld, labels, lse, lse_dtype, grad_scale,
            grad_scale_tensor, static_cast<G*>(dlogits.data), dlogits.ld);
      };
      // Packed only where logits and dlogits share the storage type (a group of one is a group of the other).
      if constexpr (std::is_same_v<T, G>) {
        if (ce_packed(logits, sizeof(T)) && ce_packed(dlogits, sizeof(G))) {
          launch(ce_backward_kernel<T, G, true>);
          return;
        }
      }
      launch(ce_backward_kernel<T, G, false>);
    });
  });
  check_launch("cross_entropy_backward");
}

}  // namespace megaswift::kernels::cuda
