// QKV split and join (see qkv_split.hpp): one thread per element (or 16-byte pack) of the fused tensor, which it
// maps to its place in q, k or v; reads and writes run along heads, so both sides are coalesced.
#include <kernels/cuda/common.cuh>
#include <kernels/cuda/qkv_split.hpp>

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

}  // namespace megaswift::kernels::cuda
