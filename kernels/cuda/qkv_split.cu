// QKV split and join (see qkv_split.hpp): one thread per element (or 16-byte pack) of the fused tensor, which it
// maps to its place in q, k or v; reads and writes run along heads, so both sides are coalesced. The variant
// with RoPE rotates q and k on the way (rope_rotate.cuh, the arithmetic of rope_apply).
#include <kernels/cuda/common.cuh>
#include <kernels/cuda/qkv_split.hpp>
#include <kernels/cuda/rope_rotate.cuh>

#include <cstdint>

namespace megaswift::kernels::cuda {
namespace {

constexpr int kThreads = 256;

template <class T, bool kJoin>
__global__ void qkv_split_kernel(T* qkv, T* q, T* k, T* v, int64_t rows, int64_t q_heads, int64_t kv_heads,
                                 int64_t head_dim, int64_t n) {
  const int64_t group = (n + 2) * head_dim, width = kv_heads * group, total = rows * width;
  for (int64_t idx = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; idx < total; idx += int64_t(gridDim.x) * blockDim.x) {
    const int64_t r = idx / width, c = idx % width;
    const int64_t g = c / group, w = c % group;
    T* other;
    int64_t at;
    if (w < n * head_dim) {
      other = q;
      at = (r * q_heads + g * n) * head_dim + w;
    } else if (w < (n + 1) * head_dim) {
      other = k;
      at = (r * kv_heads + g) * head_dim + (w - n * head_dim);
    } else {
      other = v;
      at = (r * kv_heads + g) * head_dim + (w - (n + 1) * head_dim);
    }
    if constexpr (kJoin)
      qkv[idx] = other[at];
    else
      other[at] = qkv[idx];
  }
}

// The same move in 16-byte packs (head_dim a multiple of 16 bytes, every tensor aligned): a pack never straddles a
// head, so it is copied as raw bytes; one index computation per pack instead of per element.
template <bool kJoin>
__global__ void qkv_split_packed(uint4* qkv, uint4* q, uint4* k, uint4* v, int64_t rows, int64_t q_heads,
                                 int64_t kv_heads, int64_t head_packs, int64_t n) {
  const int64_t group = (n + 2) * head_packs, width = kv_heads * group, total = rows * width;
  for (int64_t idx = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; idx < total; idx += int64_t(gridDim.x) * blockDim.x) {
    const int64_t r = idx / width, c = idx % width;
    const int64_t g = c / group, w = c % group;
    uint4* other;
    int64_t at;
    if (w < n * head_packs) {
      other = q;
      at = (r * q_heads + g * n) * head_packs + w;
    } else if (w < (n + 1) * head_packs) {
      other = k;
      at = (r * kv_heads + g) * head_packs + (w - n * head_packs);
    } else {
      other = v;
      at = (r * kv_heads + g) * head_packs + (w - (n + 1) * head_packs);
    }
    if constexpr (kJoin)
      qkv[idx] = other[at];
    else
      other[at] = qkv[idx];
  }
}

// Split (or join) with RoPE on q and k: one thread per 16-byte pack of a head, indexed as the fused tensor is
// laid out. A q or k pack in the first half of the rotating channels rotates with its partner half a rotation
// further (rope_rotate.cuh) and moves both; the partner's own thread has nothing to do. Other packs are copied.
template <class T, bool kJoin>
__global__ void qkv_split_rope_packed(T* qkv, T* q, T* k, T* v, const float* cos_t, const float* sin_t, int64_t rows,
                                      int64_t q_heads, int64_t kv_heads, int64_t head_dim, int64_t n, int64_t half,
                                      int64_t rows_per_position, float sign) {
  constexpr int N = vec::kPack<T>;
  const int64_t packs = head_dim / N, half_packs = half / N, slots = kv_heads * (n + 2), total = rows * slots * packs;
  for (int64_t idx = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; idx < total; idx += int64_t(gridDim.x) * blockDim.x) {
    const int64_t u = idx % packs, rs = idx / packs;
    const int64_t slot = rs % slots, r = rs / slots;
    const int64_t g = slot / (n + 2), w = slot % (n + 2);
    T* other;
    int64_t head;  // first element of this head in q, k or v
    if (w < n) {
      other = q;
      head = (r * q_heads + g * n + w) * head_dim;
    } else {
      other = w == n ? k : v;
      head = (r * kv_heads + g) * head_dim;
    }
    const int64_t fused = (r * slots + slot) * head_dim, e = u * N;
    if (w <= n && u < 2 * half_packs) {
      if (u >= half_packs) continue;  // moved with its partner
      const int64_t row = r / rows_per_position;
      const float *c = cos_t + row * half + e, *s = sin_t + row * half + e;
      if constexpr (kJoin)
        rope_detail::rotate_pack<T>(other, head + e, head + e + half, qkv, fused + e, fused + e + half, c, s, sign);
      else
        rope_detail::rotate_pack<T>(qkv, fused + e, fused + e + half, other, head + e, head + e + half, c, s, sign);
    } else if constexpr (kJoin) {
      *reinterpret_cast<uint4*>(qkv + fused + e) = *reinterpret_cast<const uint4*>(other + head + e);
    } else {
      *reinterpret_cast<uint4*>(other + head + e) = *reinterpret_cast<const uint4*>(qkv + fused + e);
    }
  }
}

bool aligned16(const void* p) { return reinterpret_cast<uintptr_t>(p) % 16 == 0; }

}  // namespace

void qkv_split(void* qkv, void* q, void* k, void* v, Dtype dtype, int64_t rows, int64_t q_heads, int64_t kv_heads,
               int64_t head_dim, bool join, Stream stream) {
  if (rows <= 0 || q_heads <= 0 || kv_heads <= 0 || head_dim <= 0) return;
  const int64_t n = q_heads / kv_heads;
  const int64_t total = rows * kv_heads * (n + 2) * head_dim;
  const int64_t bytes_per_head = head_dim * (dtype == Dtype::f32 ? 4 : 2);
  if (bytes_per_head % 16 == 0 && aligned16(qkv) && aligned16(q) && aligned16(k) && aligned16(v)) {
    const int64_t head_packs = bytes_per_head / 16, packs = total * (bytes_per_head / head_dim) / 16;
    auto* fused = static_cast<uint4*>(qkv);
    auto *pq = static_cast<uint4*>(q), *pk = static_cast<uint4*>(k), *pv = static_cast<uint4*>(v);
    if (join)
      qkv_split_packed<true><<<blocks_for(packs, kThreads), kThreads, 0, stream_of(stream)>>>(fused, pq, pk, pv, rows, q_heads,
                                                                                          kv_heads, head_packs, n);
    else
      qkv_split_packed<false><<<blocks_for(packs, kThreads), kThreads, 0, stream_of(stream)>>>(fused, pq, pk, pv, rows, q_heads,
                                                                                           kv_heads, head_packs, n);
    check_launch(join ? "qkv_split_backward" : "qkv_split_forward");
    return;
  }
  dispatch_dtype(dtype, [&](auto t) {
    using T = decltype(t);
    const unsigned blocks = blocks_for(total, kThreads);
    if (join)
      qkv_split_kernel<T, true><<<blocks, kThreads, 0, stream_of(stream)>>>(
          static_cast<T*>(qkv), static_cast<T*>(q), static_cast<T*>(k), static_cast<T*>(v), rows, q_heads, kv_heads,
          head_dim, n);
    else
      qkv_split_kernel<T, false><<<blocks, kThreads, 0, stream_of(stream)>>>(
          static_cast<T*>(qkv), static_cast<T*>(q), static_cast<T*>(k), static_cast<T*>(v), rows, q_heads, kv_heads,
          head_dim, n);
  });
  check_launch(join ? "qkv_split_backward" : "qkv_split_forward");
}

bool qkv_split_rope(void* qkv, void* q, void* k, void* v, Dtype dtype, int64_t rows, int64_t q_heads, int64_t kv_heads,
                    int64_t head_dim, const float* cos, const float* sin, int64_t rotary_dim, int64_t rows_per_position,
                    bool join, Stream stream) {
  if (rows <= 0 || q_heads <= 0 || kv_heads <= 0 || head_dim <= 0) return true;
  const int64_t half = rotary_dim / 2, n = q_heads / kv_heads;
  bool launched = false;
  dispatch_dtype(dtype, [&](auto t) {
    using T = decltype(t);
    constexpr int N = vec::kPack<T>;
    // half a multiple of 4 as well: the table rows are read as float4s (for f32 the pack is only 4).
    if (head_dim % N != 0 || half % N != 0 || half % 4 != 0 || rows_per_position < 1 || !aligned16(qkv) ||
        !aligned16(q) || !aligned16(k) || !aligned16(v) || !aligned16(cos) || !aligned16(sin))
      return;
    const int64_t packs = rows * kv_heads * (n + 2) * (head_dim / N);
    auto* fused = static_cast<T*>(qkv);
    auto *pq = static_cast<T*>(q), *pk = static_cast<T*>(k), *pv = static_cast<T*>(v);
    if (join)
      qkv_split_rope_packed<T, true><<<blocks_for(packs, kThreads), kThreads, 0, stream_of(stream)>>>(
          fused, pq, pk, pv, cos, sin, rows, q_heads, kv_heads, head_dim, n, half, rows_per_position, -1.0f);
    else
      qkv_split_rope_packed<T, false><<<blocks_for(packs, kThreads), kThreads, 0, stream_of(stream)>>>(
          fused, pq, pk, pv, cos, sin, rows, q_heads, kv_heads, head_dim, n, half, rows_per_position, 1.0f);
    launched = true;
  });
  if (launched) check_launch(join ? "qkv_split_rope_backward" : "qkv_split_rope_forward");
  return launched;
}

}  // namespace megaswift::kernels::cuda
