// What the attention kernels (attention.cu, kv_cache.cu) share on the device: one sequence's offsets and lengths
// read from the geometry (cu_seqlens and cache lengths read here, clamped into the tensors), the keys a query
// sees, the softcap, and loading a tile of rows into shared memory as fp32.
#pragma once

#include <kernels/cuda/attention.hpp>
#include <kernels/cuda/common.cuh>

#include <cstdint>
#include <string>

namespace megaswift::kernels::cuda::attn {

// Sequence s: element (token t, head h, channel d) of q/out/dout/dq is q_base + t * q_stride + h * D + d, of k/v
// (and dk/dv) kv_base + t * kv_stride + g * D + d; its lse (and delta) lse_base + t * lse_stride + h.
struct SeqView {
  int64_t q_base, q_stride, lse_base, lse_stride, q_len;
  int64_t kv_base, kv_stride, kv_len;
  int64_t cached;  // cache: tokens the row held before the call (the new ones go at cached + t)
};

__device__ __forceinline__ int64_t clamp64(int64_t v, int64_t lo, int64_t hi) { return v < lo ? lo : (v > hi ? hi : v); }

__device__ __forceinline__ SeqView seq_view(const AttentionGeometry& g, int64_t s) {
  SeqView v{};
  const int64_t hq = g.q_heads, qrow = hq * g.head_dim, kvrow = int64_t(g.kv_heads) * g.head_dim;
  if (g.q_packed) {
    const int64_t a = clamp64(g.cu_q[s], 0, g.q_rows), b = clamp64(g.cu_q[s + 1], a, g.q_rows);
    v.q_base = a * qrow;
    v.q_stride = qrow;
    v.lse_base = a * hq;
    v.lse_stride = hq;
    v.q_len = b - a;
  } else {
    v.q_base = s * qrow;
    v.q_stride = g.n_seqs * qrow;
    v.lse_base = s * hq;
    v.lse_stride = g.n_seqs * hq;
    v.q_len = g.q_len;
  }
  switch (g.kv) {
    case AttentionKv::batched:
      v.kv_base = s * kvrow;
      v.kv_stride = g.n_seqs * kvrow;
      v.kv_len = g.kv_len;
      break;
    case AttentionKv::packed: {
      const int64_t a = clamp64(g.cu_kv[s], 0, g.kv_rows), b = clamp64(g.cu_kv[s + 1], a, g.kv_rows);
      v.kv_base = a * kvrow;
      v.kv_stride = kvrow;
      v.kv_len = b - a;
      break;
    }
    case AttentionKv::cache: {
      // A row whose new tokens would pass the capacity is an error of the caller (ops.h) that the host cannot
      // see without reading the lengths: the row then keeps to its capacity here.
      v.cached = clamp64(g.cache_seqlens[s], 0, g.cache_capacity);
      v.kv_base = s * g.cache_row_stride;
      v.kv_stride = kvrow;
      v.kv_len = v.cached + v.q_len < g.cache_capacity ? v.cached + v.q_len : g.cache_capacity;
      break;
    }
  }
  return v;
}

// Query i of the sequence sits at position i + kv_len - q_len and sees the keys [key_lo, key_hi): bottom-right
// causal, limited to the window_left keys before it when there is a window (the CPU kernel's key_range).
__device__ __forceinline__ int64_t key_hi(const SeqView& v, int64_t i) { return i + v.kv_len - v.q_len + 1; }
__device__ __forceinline__ int64_t key_lo(const SeqView& v, int64_t window, int64_t i) {
  const int64_t p = i + v.kv_len - v.q_len;
  return window > 0 ? (p - window > 0 ? p - window : 0) : 0;
}

// The score of a query-key pair from their dot product: scale, then softcap * tanh(s / softcap) when capped (th
// keeps the tanh for backward).
__device__ __forceinline__ float score(float dot, float scale, float softcap, float inv_cap, float* th) {
  float s = dot * scale;
  if (softcap > 0.0f) {
    const float t = tanhf(s * inv_cap);
    *th = t;
    s = softcap * t;
  } else {
    *th = 0.0f;
  }
  return s;
}

// Shared-memory rows are padded to an odd stride, so threads reading one channel of different rows hit
// different banks.
__host__ __device__ constexpr int padded(int d) { return d % 2 == 0 ? d + 1 : d; }

// dst[r * dp + d] = src[base + (first + r) * stride + d] for r < valid, 0 for valid <= r < rows (d < D).
template <class T>
__device__ __forceinline__ void load_rows(float* dst, int dp, const T* src, int64_t base, int64_t stride, int64_t first,
                                          int valid, int rows, int D) {
  const int n = rows * D;
  for (int idx = threadIdx.x; idx < n; idx += blockDim.x) {
    const int r = idx / D, d = idx - r * D;
    dst[r * dp + d] = r < valid ? load(src, base + (first + r) * stride + d) : 0.0f;
  }
}

// What both launchers (the SIMT kernels and the tensor-core path) size their grids and shared memory with.

// Above 48 KiB a kernel must opt in to dynamic shared memory (per device: set on every launch, it is cheap).
template <class K>
inline void allow_smem(K kernel, size_t bytes, const char* name) {
  const cudaError_t rc = cudaFuncSetAttribute(kernel, cudaFuncAttributeMaxDynamicSharedMemorySize, static_cast<int>(bytes));
  if (rc != cudaSuccess)
    throw KernelError(std::string(name) + ": " + std::to_string(bytes) + " bytes of shared memory: " + cudaGetErrorString(rc));
}

// Grid bounds on the sequences' lengths (the blocks loop past them).
inline int64_t q_bound(const AttentionGeometry& g) {
  if (!g.q_packed) return g.q_len;
  return g.max_q > 0 && g.max_q < g.q_rows ? g.max_q : g.q_rows;
}

inline int64_t kv_bound(const AttentionGeometry& g) {
  switch (g.kv) {
    case AttentionKv::batched: return g.kv_len;
    case AttentionKv::packed: return g.max_kv > 0 && g.max_kv < g.kv_rows ? g.max_kv : g.kv_rows;
    case AttentionKv::cache: return g.cache_capacity;
  }
  return 0;
}

}  // namespace megaswift::kernels::cuda::attn
