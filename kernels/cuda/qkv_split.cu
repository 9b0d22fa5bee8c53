// QKV split and join (see qkv_split.hpp): one thread per element (or 16-byte pack) of the fused tensor, which it
// maps to its place in q, k or v; reads and writes run along heads, so both sides are coalesced. The variant
// with RoPE rotates q and k on the way (rope_rotate.cuh, the arithmetic of rope_apply).
#include <kernels/cuda/common.cuh>
#include <kernels/cuda/qkv_split.hpp>
#include <kernels/cuda/rope_rotate.cuh>
#include <kernels/cuda/vec.cuh>

#include <climits>
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

// Split (or join) with RoPE on q and k: one thread per unit of work of a row of the fused tensor (grid x), for
// rows blockIdx.y, blockIdx.y + gridDim.y, ... A q or k head has packs - half_packs units: a rotating pack of
// the first half (rope_rotate.cuh), which moves its partner half a rotation further with it, or a pass-through
// pack past the rotating channels; a v head has one unit per pack. The unit's head and place in q, k or v are
// worked out once, in 32 bits, before the row loop (64-bit divisions per pack made the kernel bound by its
// index arithmetic).
template <class T, bool kJoin>
__global__ void qkv_split_rope_packed(T* qkv, T* q, T* k, T* v, const float* cos_t, const float* sin_t, int64_t rows,
                                      int q_heads, int kv_heads, int head_dim, int n, int half, int rows_per_position,
                                      float sign) {
  constexpr int N = vec::kPack<T>;
  const int packs = head_dim / N, half_packs = half / N, rotating_units = packs - half_packs;
  const int group_units = (n + 1) * rotating_units + packs;
  const int c = blockIdx.x * blockDim.x + threadIdx.x;
  if (c >= kv_heads * group_units) return;
  const int g = c / group_units, in_group = c % group_units;
  int w, u;  // head within the group ([n q heads | k | v]) and pack within the head
  if (in_group < (n + 1) * rotating_units) {
    w = in_group / rotating_units;
    const int j = in_group % rotating_units;
    u = j < half_packs ? j : j + half_packs;  // pass-through packs follow the rotating channels
  } else {
    w = n + 1;
    u = in_group - (n + 1) * rotating_units;
  }
  const int slots = kv_heads * (n + 2), slot = g * (n + 2) + w;
  T* other = w < n ? q : w == n ? k : v;
  const int head = (w < n ? g * n + w : g) * head_dim, e = u * N;  // in a row of q, or of k and v
  const int64_t row_width = static_cast<int64_t>(w < n ? q_heads : kv_heads) * head_dim;
  const int64_t fused_width = static_cast<int64_t>(slots) * head_dim;
  const int fused = slot * head_dim;
  const bool rotates = w <= n && u < half_packs;
  for (int64_t r = blockIdx.y; r < rows; r += gridDim.y) {
    const int64_t at = r * row_width + head + e, fat = r * fused_width + fused + e;
    if (rotates) {
      const int64_t table = (r / rows_per_position) * half + e;
      if constexpr (kJoin)
        rope_detail::rotate_pack<T>(other, at, at + half, qkv, fat, fat + half, cos_t + table, sin_t + table, sign);
      else
        rope_detail::rotate_pack<T>(qkv, fat, fat + half, other, at, at + half, cos_t + table, sin_t + table, sign);
    } else if constexpr (kJoin) {
      *reinterpret_cast<uint4*>(qkv + fat) = *reinterpret_cast<const uint4*>(other + at);
    } else {
      *reinterpret_cast<uint4*>(other + at) = *reinterpret_cast<const uint4*>(qkv + fat);
    }
  }
}

}  // namespace

void qkv_split(void* qkv, void* q, void* k, void* v, Dtype dtype, int64_t rows, int64_t q_heads, int64_t kv_heads,
               int64_t head_dim, bool join, Stream stream) {
  if (rows <= 0 || q_heads <= 0 || kv_heads <= 0 || head_dim <= 0) return;
  const int64_t n = q_heads / kv_heads;
  const int64_t total = rows * kv_heads * (n + 2) * head_dim;
  const int64_t bytes_per_head = head_dim * (dtype == Dtype::f32 ? 4 : 2);
  if (bytes_per_head % 16 == 0 && vec::aligned(qkv) && vec::aligned(q) && vec::aligned(k) && vec::aligned(v)) {
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
    // half a multiple of 4 as well: the table rows are read as float4s (for f32 the pack is only 4). The
    // in-row arithmetic is 32-bit: a row of the fused tensor must hold fewer than 2^31 elements.
    const int64_t width = kv_heads * (n + 2) * head_dim;
    if (head_dim % N != 0 || half % N != 0 || half % 4 != 0 || rows_per_position < 1 ||
        rows_per_position > INT32_MAX || width > INT32_MAX || !vec::aligned(qkv) || !vec::aligned(q) ||
        !vec::aligned(k) || !vec::aligned(v) || !vec::aligned(cos) || !vec::aligned(sin))
      return;
    constexpr int kRowThreads = 128;
    const int64_t packs = head_dim / N, units = kv_heads * ((n + 1) * (packs - half / N) + packs);
    const dim3 grid(static_cast<unsigned>((units + kRowThreads - 1) / kRowThreads),
                    static_cast<unsigned>(rows < 65535 ? rows : 65535));
    auto* fused = static_cast<T*>(qkv);
    auto *pq = static_cast<T*>(q), *pk = static_cast<T*>(k), *pv = static_cast<T*>(v);
    const int qh = static_cast<int>(q_heads), kvh = static_cast<int>(kv_heads), d = static_cast<int>(head_dim);
    const int nn = static_cast<int>(n), hf = static_cast<int>(half), rpp = static_cast<int>(rows_per_position);
    if (join)
      qkv_split_rope_packed<T, true><<<grid, kRowThreads, 0, stream_of(stream)>>>(fused, pq, pk, pv, cos, sin, rows, qh,
                                                                                kvh, d, nn, hf, rpp, -1.0f);
    else
      qkv_split_rope_packed<T, false><<<grid, kRowThreads, 0, stream_of(stream)>>>(fused, pq, pk, pv, cos, sin, rows, qh,
                                                                                 kvh, d, nn, hf, rpp, 1.0f);
    launched = true;
  });
  if (launched) check_launch(join ? "qkv_split_rope_backward" : "qkv_split_rope_forward");
  return launched;
}

}  // namespace megaswift::kernels::cuda
