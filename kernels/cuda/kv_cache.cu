// KV-cache append and split-K decode attention (see kv_cache.hpp).
#include <kernels/cuda/attention_common.cuh>
#include <kernels/cuda/common.cuh>
#include <kernels/cuda/kv_cache.hpp>

#include <cmath>
#include <cstdint>
#include <string>

namespace megaswift::kernels::cuda {
namespace {

using attn::clamp64;
using attn::key_hi;
using attn::key_lo;
using attn::score;
using attn::seq_view;
using attn::SeqView;

constexpr int kThreads = 256;
constexpr int kWarps = 4;  // per decode block
constexpr int64_t kTargetBlocks = 512;  // fixed (not the GPU's SM count): the split, so the sums, depend on shapes only
constexpr int64_t kMaxSplits = 64;
constexpr int64_t kMinChunk = 128;

// One thread per element of the new tokens' rows: the row of the cache it belongs to, from the layout (SBHD:
// token r is sequence r % n_seqs) or from cu_q (THD: the sequence whose range holds the token).
template <class T, class TC>
__global__ void append_kernel(AttentionGeometry g, const T* __restrict__ k_new, const T* __restrict__ v_new,
                              TC* __restrict__ kc, TC* __restrict__ vc, int64_t rows) {
  const int64_t row_elems = int64_t(g.kv_heads) * g.head_dim, n = rows * row_elems;
  for (int64_t e = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; e < n; e += int64_t(gridDim.x) * blockDim.x) {
    const int64_t r = e / row_elems, c = e - r * row_elems;
    int64_t s, t;
    if (g.q_packed) {
      // The last sequence starting at or before r (upper bound over cu_q), if its range holds r.
      int64_t lo = 0, hi = g.n_seqs + 1;
      while (lo < hi) {
        const int64_t mid = (lo + hi) / 2;
        if (g.cu_q[mid] <= r) lo = mid + 1; else hi = mid;
      }
      s = lo - 1;
      if (s < 0 || s >= g.n_seqs || r >= g.cu_q[s + 1]) continue;  // a token of no row
      t = r - g.cu_q[s];
    } else {
      s = r % g.n_seqs;
      t = r / g.n_seqs;
    }
    const int64_t pos = clamp64(g.cache_seqlens[s], 0, g.cache_capacity) + t;
    if (pos >= g.cache_capacity) continue;  // past the capacity (a caller's error ops.h forbids): not written
    const int64_t at = s * g.cache_row_stride + pos * row_elems + c;
    store(kc, at, load(k_new, e));
    store(vc, at, load(v_new, e));
  }
}

// Query t of row s, q head h, keys of chunk z: four warps take every fourth key, each with its own online
// softmax (lane owns channels lane + 32 * e); the warps' states merge in warp order. With one chunk the block
// writes out; else its unnormalised state goes to the scratch for merge_kernel.
template <class T, class TC, int DMAX>
__global__ void __launch_bounds__(kWarps * 32) decode_kernel(AttentionGeometry g, const T* __restrict__ q,
                                                             const TC* __restrict__ kc, const TC* __restrict__ vc,
                                                             T* __restrict__ out, float* __restrict__ part_o,
                                                             float* __restrict__ part_ml, int64_t slots, int64_t chunk) {
  constexpr int E = DMAX / 32;
  __shared__ float s_m[kWarps], s_l[kWarps], s_o[kWarps][DMAX];
  const int64_t s = blockIdx.x / slots;
  const int h = blockIdx.y, kvh = h / (g.q_heads / g.kv_heads);
  const int64_t z = blockIdx.z, splits = gridDim.z;
  const int warp = threadIdx.x / 32, lane = threadIdx.x % 32, D = g.head_dim;
  const SeqView sv = seq_view(g, s);
  const float inv_cap = g.softcap > 0.0f ? 1.0f / g.softcap : 0.0f;
  for (int64_t t = blockIdx.x % slots; t < sv.q_len; t += slots) {
    const int64_t lo = key_lo(sv, g.window_left, t);
    const int64_t hi = key_hi(sv, t) < sv.kv_len ? key_hi(sv, t) : sv.kv_len;
    const int64_t a = lo > z * chunk ? lo : z * chunk;
    const int64_t b = hi < (z + 1) * chunk ? hi : (z + 1) * chunk;
    const int64_t q_at = sv.q_base + t * sv.q_stride + int64_t(h) * D;
    float qv[E], acc[E];
#pragma unroll
    for (int e = 0; e < E; ++e) {
      const int d = lane + 32 * e;
      qv[e] = d < D ? load(q, q_at + d) : 0.0f;
      acc[e] = 0.0f;
    }
    float m = -INFINITY, l = 0.0f;
    for (int64_t j = a + warp; j < b; j += kWarps) {
      const int64_t k_at = sv.kv_base + j * sv.kv_stride + int64_t(kvh) * D;
      float dot = 0.0f;
#pragma unroll
      for (int e = 0; e < E; ++e) {
        const int d = lane + 32 * e;
        if (d < D) dot = fmaf(qv[e], load(kc, k_at + d), dot);
      }
      for (int o = 16; o > 0; o >>= 1) dot += __shfl_xor_sync(0xffffffffu, dot, o);
      float th;
      const float x = score(dot, g.scale, g.softcap, inv_cap, &th);
      const float m_new = fmaxf(m, x);
      const float alpha = expf(m - m_new);  // 0 on the first key (m = -inf)
      const float p = expf(x - m_new);
      l = l * alpha + p;
#pragma unroll
      for (int e = 0; e < E; ++e) {
        const int d = lane + 32 * e;
        acc[e] = acc[e] * alpha + (d < D ? p * load(vc, k_at + d) : 0.0f);
      }
      m = m_new;
    }
    if (lane == 0) {
      s_m[warp] = m;
      s_l[warp] = l;
    }
#pragma unroll
    for (int e = 0; e < E; ++e) s_o[warp][lane + 32 * e] = acc[e];
    __syncthreads();
    float mx = -INFINITY;
    for (int w = 0; w < kWarps; ++w) mx = fmaxf(mx, s_m[w]);
    float f[kWarps], total = 0.0f;
    for (int w = 0; w < kWarps; ++w) {
      f[w] = s_m[w] == -INFINITY ? 0.0f : expf(s_m[w] - mx);
      total += s_l[w] * f[w];
    }
    const int64_t item = (sv.lse_base + t * sv.lse_stride + h) * splits + z;
    for (int d = threadIdx.x; d < D; d += blockDim.x) {
      float o = 0.0f;
      for (int w = 0; w < kWarps; ++w) o += s_o[w][d] * f[w];
      if (splits == 1) {
        store(out, q_at + d, total > 0.0f ? o / total : 0.0f);
      } else {
        part_o[item * D + d] = o;
      }
    }
    if (splits > 1 && threadIdx.x == 0) {
      part_ml[2 * item] = mx;
      part_ml[2 * item + 1] = total;
    }
    __syncthreads();  // s_* are rewritten for the next query
  }
}

// out = the chunks' states of a query merged in chunk order.
template <class T>
__global__ void merge_kernel(AttentionGeometry g, const float* __restrict__ part_o, const float* __restrict__ part_ml,
                             T* __restrict__ out, int64_t slots, int64_t splits) {
  const int64_t s = blockIdx.x / slots;
  const int h = blockIdx.y, D = g.head_dim;
  const SeqView sv = seq_view(g, s);
  for (int64_t t = blockIdx.x % slots; t < sv.q_len; t += slots) {
    const int64_t item0 = (sv.lse_base + t * sv.lse_stride + h) * splits;
    float mx = -INFINITY;
    for (int64_t z = 0; z < splits; ++z) mx = fmaxf(mx, part_ml[2 * (item0 + z)]);
    float total = 0.0f;
    for (int64_t z = 0; z < splits; ++z) {
      const float m = part_ml[2 * (item0 + z)];
      total += m == -INFINITY ? 0.0f : part_ml[2 * (item0 + z) + 1] * expf(m - mx);
    }
    const int64_t q_at = sv.q_base + t * sv.q_stride + int64_t(h) * D;
    for (int d = threadIdx.x; d < D; d += blockDim.x) {
      float o = 0.0f;
      for (int64_t z = 0; z < splits; ++z) {
        const float m = part_ml[2 * (item0 + z)];
        if (m != -INFINITY) o += part_o[(item0 + z) * D + d] * expf(m - mx);
      }
      store(out, q_at + d, total > 0.0f ? o / total : 0.0f);
    }
  }
}

template <class F>
void dispatch_kv(Dtype dtype, Dtype cache_dtype, const char* op, F&& f) {
  dispatch_dtype(dtype, [&](auto t) {
    using T = decltype(t);
    // The cache in the new tokens' dtype, or fp32 (the SDK keeps fp32 caches whatever the model's dtype).
    if (cache_dtype == dtype) {
      f(T{}, T{});
    } else if (cache_dtype == Dtype::f32) {
      f(T{}, float{});
    } else {
      throw KernelError(std::string(op) + ": the cache must have the new tokens' dtype or be f32");
    }
  });
}

int64_t slots_of(const AttentionGeometry& g) {
  if (!g.q_packed) return g.q_len;
  return g.max_q > 0 && g.max_q < g.q_rows ? g.max_q : g.q_rows;
}

}  // namespace

void kv_cache_append(const AttentionGeometry& g, const void* k_new, const void* v_new, Dtype dtype, void* k_cache,
                     void* v_cache, Dtype cache_dtype, Stream stream) {
  const int64_t rows = attention_q_tokens(g);
  const int64_t n = rows * g.kv_heads * g.head_dim;
  if (n <= 0 || g.n_seqs <= 0) return;
  dispatch_kv(dtype, cache_dtype, "kv_cache_append", [&](auto t, auto tc) {
    using T = decltype(t);
    using TC = decltype(tc);
    append_kernel<T, TC><<<blocks_for(n, kThreads), kThreads, 0, stream_of(stream)>>>(
        g, static_cast<const T*>(k_new), static_cast<const T*>(v_new), static_cast<TC*>(k_cache),
        static_cast<TC*>(v_cache), rows);
  });
  check_launch("kv_cache_append");
}

DecodePlan attention_decode_plan(const AttentionGeometry& g) {
  DecodePlan p;
  p.slots = slots_of(g);
  const int64_t items = g.n_seqs * p.slots * g.q_heads;
  if (items <= 0) return p;
  const int64_t by_keys = (g.cache_capacity + kMinChunk - 1) / kMinChunk;  // chunks of at least kMinChunk keys
  int64_t splits = (kTargetBlocks + items - 1) / items;
  if (splits > by_keys) splits = by_keys;
  if (splits > kMaxSplits) splits = kMaxSplits;
  if (splits < 1) splits = 1;
  p.splits = splits;
  p.chunk = (g.cache_capacity + splits - 1) / splits;
  if (p.chunk < 1) p.chunk = 1;
  p.scratch_floats = splits > 1 ? attention_q_tokens(g) * g.q_heads * splits * (g.head_dim + 2) : 0;
  return p;
}

void attention_decode(const AttentionGeometry& g, const DecodePlan& plan, const void* q, const void* k_cache,
                      const void* v_cache, Dtype dtype, Dtype cache_dtype, void* out, float* scratch, Stream stream) {
  if (g.q_heads <= 0 || g.kv_heads <= 0 || g.q_heads % g.kv_heads != 0)
    throw KernelError("attention_decode: " + std::to_string(g.q_heads) + " query heads over " +
                      std::to_string(g.kv_heads) + " kv heads");
  if (g.head_dim <= 0 || g.head_dim > kAttentionMaxHeadDim)
    throw KernelError("attention_decode: head_dim " + std::to_string(g.head_dim) + " is outside [1, 256]");
  const int64_t x = g.n_seqs * plan.slots;
  if (x <= 0) return;
  if (x > 0x7fffffffLL || g.q_heads > 65535 || plan.splits > 65535)
    throw KernelError("attention_decode: too many blocks");
  float* part_o = plan.splits > 1 ? scratch : nullptr;
  float* part_ml = plan.splits > 1 ? scratch + attention_q_tokens(g) * g.q_heads * plan.splits * g.head_dim : nullptr;
  const dim3 grid(static_cast<unsigned>(x), static_cast<unsigned>(g.q_heads), static_cast<unsigned>(plan.splits));
  dispatch_kv(dtype, cache_dtype, "attention_decode", [&](auto t, auto tc) {
    using T = decltype(t);
    using TC = decltype(tc);
    auto launch = [&](auto kernel) {
      kernel<<<grid, kWarps * 32, 0, stream_of(stream)>>>(g, static_cast<const T*>(q), static_cast<const TC*>(k_cache),
                                                          static_cast<const TC*>(v_cache), static_cast<T*>(out), part_o,
                                                          part_ml, plan.slots, plan.chunk);
    };
    if (g.head_dim <= 64) launch(decode_kernel<T, TC, 64>);
    else if (g.head_dim <= 128) launch(decode_kernel<T, TC, 128>);
    else launch(decode_kernel<T, TC, 256>);
    if (plan.splits > 1) {
      merge_kernel<T><<<dim3(static_cast<unsigned>(x), static_cast<unsigned>(g.q_heads)), 128, 0, stream_of(stream)>>>(
          g, part_o, part_ml, static_cast<T*>(out), plan.slots, plan.splits);
    }
  });
  check_launch("attention_decode");
}

}  // namespace megaswift::kernels::cuda
