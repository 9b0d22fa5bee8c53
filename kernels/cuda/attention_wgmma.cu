// Attention's backward on Hopper's warpgroup MMA (attention_wgmma.hpp): the dq and dk/dv kernels of
// attention_tc.cu (the same math: P recomputed from lse, no atomics, the same bits every run), with every matrix
// product a wgmma.mma_async of one warpgroup (4 warps, 128 threads, M = 64 rows) instead of warp-wide mma.sync
// fed by ldmatrix. A dq block is one warpgroup (64 queries); a dk/dv block is one or two
// (attention_wgmma_warpgroups: 64 or 128 keys), the two sharing every tile the block streams. The shared
// primitives are in attention_wgmma_ops.cuh; dq from materialized dS, which the dk/dv kernel writes when asked, in
// attention_wgmma_ds.cu. The forward and dk/dv run warp-specialized (attention_wgmma_fwd_ws.cu,
// attention_wgmma_bwd_ws.cu); this dk/dv kernel runs under MEGASWIFT_ATTENTION_BACKWARD_WS=0.
//
// Why: the mma.sync kernels are bound by shared-memory reads through ldmatrix (every B fragment passes through
// registers and feeds 2 mma); wgmma reads its shared-memory operands itself, a 64 x N x 16 product per instruction,
// and runs asynchronously beside the issuing warps.
//
// Shared memory holds every tile of rows x D (queries, keys or values of one head) in wgmma's canonical layout
// without swizzle: 8-row panels, each panel D / 8 "core matrices" of 8 rows x 16 bytes (128 contiguous bytes),
// element (r, c) at (r / 8) * 8 D + (c / 8) * 64 + (r % 8) * 8 + c % 8. The same tile serves as a K-major operand
// (rows = M or N, the D channels summed over: S = Q K^T, dP = dO V^T and their transposes) and as an MN-major one
// (rows summed over, N = the channels: dV += P^T dO, dK += dS^T Q, dQ += dS K); the descriptors differ only in
// their two strides. cp.async fills it in 16-byte chunks, 8 consecutive lanes covering one core matrix (the 8
// rows of one channel chunk), so the stores of a quarter-warp hit distinct banks.
//
// The fp32 score accumulators of a wgmma have mma.sync's C layout per warp (warp w owns rows 16 w .. 16 w + 15),
// which is also the layout of a register A operand: P and dS go from the score registers straight into the next
// product (FlashAttention-2's register reuse), rounded to the storage type.
//
// Pipeline: two shared-memory stages of the streamed tiles; step n waits for its copies, makes them visible to
// the async proxy that wgmma reads through (fence.proxy.async), passes one barrier and then issues the copies of
// step n + 1 into the other stage (every thread has left it: it passed the barrier after waiting for its own
// wgmma). With one warpgroup a block, two blocks per SM (one block's softmax beside the other's products) at
// head_dim 128, three at 64; with two, one block. Two warpgroups measured faster: dk/dv 1.15 against 1.50 ms
// (B4 S4096 Hq12 Hkv2 D128, H200): the kernels are bound by what they pull through L2. Running step n - 1's second
// products beside step n's score products instead (waiting for them before the refill) measured no faster at
// head_dim 128 and slower at 64 (dk/dv 1.78 -> 2.18 ms, B8 S4096 Hq14 Hkv2).
#include <kernels/cuda/attention_wgmma.hpp>
#include <kernels/cuda/attention_common.cuh>
#include <kernels/cuda/attention_tc_ptx.cuh>
#include <kernels/cuda/attention_wgmma_ops.cuh>
#include <kernels/cuda/common.cuh>
#include <kernels/cuda/env_setting.hpp>

#include <atomic>
#include <cstdint>
#include <string>
#include <type_traits>

namespace megaswift::kernels::cuda {
namespace {

using attn::allow_smem;
using attn::kv_bound;
using attn::q_bound;
using attn::seq_view;
using attn::SeqView;
using namespace tc_ptx;
using namespace wg;

// ---- dq ----

template <int D>
constexpr size_t dq_smem() { return sizeof(uint16_t) * size_t(2 + 2 * 2) * kTile * D; }

// dq of one (sequence, 64-query tile, q head) over the key tiles its queries see: S = Q K^T, dP = dO V^T,
// dS = P (dP - delta), dq += dS K.
template <class T, int D>
__global__ void __launch_bounds__(kThreads, kBlocksPerSm<D>) wg_dq_kernel(AttentionGeometry g, const T* __restrict__ q,
                                                                          const T* __restrict__ k, const T* __restrict__ v,
                                                                          const float* __restrict__ lse, const T* __restrict__ dout,
                                                                          const float* __restrict__ delta, T* __restrict__ dq,
                                                                          int64_t tiles) {
  extern __shared__ __align__(128) unsigned char smem_raw[];
  T* sQ = reinterpret_cast<T*>(smem_raw);  // kTile x D
  T* sO = sQ + kTile * D;                  // dO
  T* sK = sO + kTile * D;                  // 2 stages
  T* sV = sK + 2 * kTile * D;              // 2 stages
  const int warp = threadIdx.x / 32, lane = threadIdx.x % 32, gr = lane / 4, tq = lane % 4;
  const BlockWork bw = block_work(g.q_heads);
  const int h = bw.head, kvh = h / (g.q_heads / g.kv_heads);
  const SeqView sv = seq_view(g, bw.s);
  const int64_t off = sv.kv_len - sv.q_len;
  const float sl2 = g.scale * kLog2e;
  const int64_t q_at = sv.q_base + int64_t(h) * D, kv_at = sv.kv_base + int64_t(kvh) * D;
  for (int64_t tile = tiles - 1 - int64_t(blockIdx.y); tile * kRows < sv.q_len; tile += tiles) {
    const int64_t i0 = tile * kRows;
    const int nq = static_cast<int>(min64(kRows, sv.q_len - i0));
    const int64_t k_end = max64(0, min64(i0 + nq + off, sv.kv_len));
    const int n_kt = static_cast<int>((k_end + kCols - 1) / kCols);
    const int64_t row0 = i0 + warp * 16;
    __syncthreads();  // the previous tile is done with shared memory
    load_panels<D>(sQ, q, q_at, sv.q_stride, i0, nq);
    load_panels<D>(sO, dout, q_at, sv.q_stride, i0, nq);
    load_key_tile<D>(sK, sV, k, v, sv, kv_at, 0, n_kt, 0);
    float lse2[2], dl[2];
#pragma unroll
    for (int r = 0; r < 2; ++r) {
      const int64_t i = row0 + gr + 8 * r;
      const int64_t at = sv.lse_base + i * sv.lse_stride + h;
      lse2[r] = i < sv.q_len ? lse[at] * kLog2e : 0.0f;
      dl[r] = i < sv.q_len ? delta[at] : 0.0f;
    }
    float acc[D / 2], sc[kCols / 2], dp[kCols / 2];
#pragma unroll
    for (int j = 0; j < D / 2; ++j) acc[j] = 0.0f;
#pragma unroll
    for (int j = 0; j < kCols / 2; ++j) sc[j] = dp[j] = 0.0f;

    for (int kt = 0, st = 0; kt < n_kt; ++kt, st ^= 1) {
      const int64_t k0 = int64_t(kt) * kCols;
      cp_async_wait<0>();
      async_proxy_fence();
      __syncthreads();  // tile kt is visible to every thread, and every thread is done with the other stage
      load_key_tile<D>(sK, sV, k, v, sv, kv_at, kt + 1, n_kt, st ^ 1);
      const T* tK = sK + st * kTile * D;
      const T* tV = sV + st * kTile * D;
      wg_fence();
#pragma unroll
      for (int kk = 0; kk < D / 16; ++kk) Wgmma<T, kCols>::ss(sc, desc_k<D>(sQ, kk), desc_k<D>(tK, kk), kk);
#pragma unroll
      for (int kk = 0; kk < D / 16; ++kk) Wgmma<T, kCols>::ss(dp, desc_k<D>(sO, kk), desc_k<D>(tV, kk), kk);
      wg_commit();
      wg_wait<0>();
      settled(sc);
      settled(dp);
      const bool full = k0 + kCols <= i0 + off + 1 && k0 + kCols <= sv.kv_len;
#pragma unroll
      for (int j = 0; j < kCols / 8; ++j)
#pragma unroll
        for (int e = 0; e < 4; ++e) {
          const int r = e >> 1;
          const int64_t i = row0 + gr + 8 * r, key = k0 + j * 8 + 2 * tq + (e & 1);
          // Masked pairs are 0 by selection, not by exp2 (lse may be -inf for a row that sees nothing).
          const bool ok = full || key < min64(i + off + 1, sv.kv_len);
          const float p = ok ? exp2_ftz(fmaf(sc[4 * j + e], sl2, -lse2[r])) : 0.0f;
          sc[4 * j + e] = p * (dp[4 * j + e] - dl[r]);  // dS
        }
      uint32_t da[kCols / 16][4];
#pragma unroll
      for (int kk = 0; kk < kCols / 16; ++kk) scores_to_a<T>(da[kk], sc + 8 * kk);
      wg_fence();
#pragma unroll
      for (int kk = 0; kk < kCols / 16; ++kk) Wgmma<T, D>::rs(acc, da[kk], desc_mn<D>(tK, kk));
      wg_commit();
      wg_wait<0>();  // before the next barrier: the other stage is refilled after it
    }
    settled(acc);
    cp_async_wait<0>();  // the empty group of the last step
#pragma unroll
    for (int r = 0; r < 2; ++r) {
      const int64_t i = row0 + gr + 8 * r;
      if (i >= sv.q_len) continue;
      T* dst = dq + q_at + i * sv.q_stride + 2 * tq;
#pragma unroll
      for (int j = 0; j < D / 8; ++j)
        *reinterpret_cast<uint32_t*>(dst + j * 8) = pack<T>(g.scale * acc[4 * j + 2 * r], g.scale * acc[4 * j + 2 * r + 1]);
    }
  }
}

// ---- dk, dv ----


template <int D, int W>
constexpr size_t dkdv_smem() { return sizeof(uint16_t) * size_t(2 * W + 2 * 2) * kTile * D + sizeof(float) * 2 * 2 * kTile; }

// dk, dv of one (sequence, 64-key tile, kv head): over the group's q heads in head order and over the steps of 64
// queries that see the tile's keys: S^T = K Q^T, dP^T = V dO^T, dv += P^T dO, dk += dS^T Q. kDs: every step's dS
// also goes to its tile of `ds` (ds_tile; self-attention of batched sequences only, where query tiles and key
// tiles share one grid), for wg_dq_ds_kernel. Warpgroup w owns the keys 64 w .. 64 w + 63 of the block's; with W = 2
// both share every Q, dO, lse and delta tile the block streams, half the copies per key of W = 1 (the second
// warpgroup also takes the first query tile of each head, which sees none of its keys: masked, it adds nothing,
// and its dS tile above the diagonal is not written).
template <class T, int D, int W, bool kDs>
__global__ void __launch_bounds__(W * kThreads, kBlocksPerSmW<D, W>) wg_dkdv_kernel(AttentionGeometry g, const T* __restrict__ q,
                                                                            const T* __restrict__ k, const T* __restrict__ v,
                                                                            const float* __restrict__ lse, const T* __restrict__ dout,
                                                                            const float* __restrict__ delta, T* __restrict__ dk,
                                                                            T* __restrict__ dv, T* __restrict__ ds, int64_t tiles,
                                                                            int64_t seq_tiles) {
  extern __shared__ __align__(128) unsigned char smem_raw[];
  T* sK = reinterpret_cast<T*>(smem_raw);  // W x (kTile x D)
  T* sV = sK + W * kTile * D;
  T* sQ = sV + W * kTile * D;              // 2 stages
  T* sO = sQ + 2 * kTile * D;              // dO, 2 stages
  float* sL = reinterpret_cast<float*>(sO + 2 * kTile * D);  // lse (natural units), 2 stages
  float* sD = sL + 2 * kTile;                                // delta, 2 stages
  const int wg = threadIdx.x / kThreads, warp = (threadIdx.x / 32) % 4, lane = threadIdx.x % 32, gr = lane / 4;
  const BlockWork bw = block_work(g.kv_heads);
  const int kvh = bw.head, group = g.q_heads / g.kv_heads;
  const SeqView sv = seq_view(g, bw.s);
  const int64_t off = sv.kv_len - sv.q_len;
  const float sl2 = g.scale * kLog2e;
  const int64_t kv_at = sv.kv_base + int64_t(kvh) * D;
  for (int64_t tile = blockIdx.y; tile * W * kRows < sv.kv_len; tile += tiles) {  // the first key tiles are the heaviest
    const int64_t c0 = tile * W * kRows;
    const int nk = static_cast<int>(min64(W * kRows, sv.kv_len - c0));
    const int64_t cw = c0 + wg * kRows;                      // the warpgroup's keys: cw .. cw + nkw - 1
    const int nkw = nk - wg * kRows;
    // Queries that see a key of the tile: from the one at the tile's first key's position to the end.
    const int64_t i_lo = max64(0, c0 - off), i_hi = sv.q_len;
    const int64_t per_head = i_lo < i_hi ? (i_hi - i_lo + kCols - 1) / kCols : 0;
    const int64_t n_steps = per_head * group;
    // Step n: q head kvh * group + n / per_head, queries from i_lo + (n % per_head) * kCols, walked with counters.
    int64_t ld_t = 0;
    int ld_h = kvh * group;
    auto load_step = [&](int64_t n, int stage) {
      if (n < n_steps) {
        const int64_t i0 = i_lo + ld_t * kCols;
        const int nq = static_cast<int>(min64(kCols, i_hi - i0));
        const int64_t q_at = sv.q_base + int64_t(ld_h) * D;
        load_panels<D, W * kThreads>(sQ + stage * kTile * D, q, q_at, sv.q_stride, i0, nq);
        load_panels<D, W * kThreads>(sO + stage * kTile * D, dout, q_at, sv.q_stride, i0, nq);
        for (int r = threadIdx.x; r < kCols; r += W * kThreads) {
          const bool ok = r < nq;
          const int64_t at = ok ? sv.lse_base + (i0 + r) * sv.lse_stride + ld_h : 0;
          cp_async4(sL + stage * kTile + r, lse + at, ok);
          cp_async4(sD + stage * kTile + r, delta + at, ok);
        }
        if (++ld_t == per_head) {
          ld_t = 0;
          ++ld_h;
        }
      }
      cp_async_commit();
    };
    __syncthreads();  // the previous tile is done with shared memory
    load_panels_w<D, W>(sK, k, kv_at, sv.kv_stride, c0, nk);
    load_panels_w<D, W>(sV, v, kv_at, sv.kv_stride, c0, nk);
    load_step(0, 0);
    const T* tK = sK + wg * kTile * D;
    const T* tV = sV + wg * kTile * D;

    float ak[D / 2], av[D / 2], sc[kCols / 2], dp[kCols / 2];
#pragma unroll
    for (int j = 0; j < D / 2; ++j) ak[j] = av[j] = 0.0f;
#pragma unroll
    for (int j = 0; j < kCols / 2; ++j) sc[j] = dp[j] = 0.0f;
    const int64_t key0 = cw + warp * 16 + gr;  // the thread's first key row (and key0 + 8)

    int64_t ct = 0;     // step n's query tile within its head
    int ch = kvh * group;  // and its head
    for (int64_t n = 0, st = 0; n < n_steps; ++n, st ^= 1) {
      cp_async_wait<0>();
      async_proxy_fence();
      __syncthreads();  // step n is visible to every thread, and every thread is done with the other stage
      load_step(n + 1, static_cast<int>(st ^ 1));
      const int64_t i0 = i_lo + ct * kCols;
      [[maybe_unused]] const int hq = ch;
      if (++ct == per_head) {
        ct = 0;
        ++ch;
      }
      const T* tQ = sQ + st * kTile * D;
      const T* tO = sO + st * kTile * D;
      const float* tL = sL + st * kTile;
      const float* tD = sD + st * kTile;
      wg_fence();
#pragma unroll
      for (int kk = 0; kk < D / 16; ++kk) Wgmma<T, kCols>::ss(sc, desc_k<D>(tK, kk), desc_k<D>(tQ, kk), kk);  // S^T
#pragma unroll
      for (int kk = 0; kk < D / 16; ++kk) Wgmma<T, kCols>::ss(dp, desc_k<D>(tV, kk), desc_k<D>(tO, kk), kk);  // dP^T
      wg_commit();
      wg_wait<0>();
      settled(sc);
      settled(dp);
      if (cw + kRows - 1 <= i0 + off && i0 + kCols <= sv.q_len && nkw >= kRows)
        dkdv_probabilities<false>(sc, dp, tL, tD, i0, key0, sv.q_len, sv.kv_len, off, sl2);
      else
        dkdv_probabilities<true>(sc, dp, tL, tD, i0, key0, sv.q_len, sv.kv_len, off, sl2);
      uint32_t pa[kCols / 16][4], da[kCols / 16][4];
#pragma unroll
      for (int kk = 0; kk < kCols / 16; ++kk) {
        scores_to_a<T>(pa[kk], sc + 8 * kk);
        scores_to_a<T>(da[kk], dp + 8 * kk);
      }
      wg_fence();
#pragma unroll
      for (int kk = 0; kk < kCols / 16; ++kk) Wgmma<T, D>::rs(av, pa[kk], desc_mn<D>(tO, kk));  // dv += P^T dO
#pragma unroll
      for (int kk = 0; kk < kCols / 16; ++kk) Wgmma<T, D>::rs(ak, da[kk], desc_mn<D>(tQ, kk));  // dk += dS^T Q
      wg_commit();
      if constexpr (kDs)  // beside the products; a tile above the diagonal (cw > i0) has no dS
        if (cw <= i0) store_ds_tile<T>(ds + ds_tile(bw.s, hq, i0 / kTile, cw / kTile, g.q_heads, seq_tiles) * (kTile * kTile), da);
      wg_wait<0>();  // before the next barrier: the other stage is refilled after it
    }
    settled(ak);
    settled(av);
    cp_async_wait<0>();
    store_dkdv_rows<T, D>(ak, av, key0, c0 + nk, kv_at, sv.kv_stride, g.scale, dk, dv);  // (the warpgroup's keys end there too)
  }
}

// ---- launching ----

std::atomic<int64_t> g_calls{0};
// Warpgroups per forward and dk/dv block (attention_wgmma_warpgroups); 0: not read from the environment yet.
std::atomic<int> g_warpgroups{0};
constexpr int kDefaultWarpgroups = 2;
// Whether dk/dv is the warp-specialized kernel where it can be (attention_wgmma_dkdv_ws); -1: not read yet.
std::atomic<int> g_backward_ws{-1};
constexpr bool kDefaultBackwardWs = true;
constexpr int kMaxDevices = 64;
std::atomic<int> g_device_cc[kMaxDevices];  // 0: not read yet, else the major compute capability + 1

}  // namespace

bool attention_wgmma_device() {
  int dev = 0;
  if (cudaGetDevice(&dev) != cudaSuccess || dev < 0 || dev >= kMaxDevices) return false;
  int cc = g_device_cc[dev].load();
  if (cc == 0) {
    int major = 0;
    if (cudaDeviceGetAttribute(&major, cudaDevAttrComputeCapabilityMajor, dev) != cudaSuccess) return false;
    cc = major + 1;
    g_device_cc[dev].store(cc);
  }
  return cc - 1 == 9;
}

int64_t attention_wgmma_calls() { return g_calls.load(); }

void wg::count_launch() { g_calls.fetch_add(1); }

int attention_wgmma_warpgroups() {
  return env_setting(g_warpgroups, 0, "MEGASWIFT_ATTENTION_WARPGROUPS", {{"1", 1}, {"2", 2}}, kDefaultWarpgroups);
}

bool attention_wgmma_backward_ws() {
  return env_setting(g_backward_ws, -1, "MEGASWIFT_ATTENTION_BACKWARD_WS", {{"0", 0}, {"1", 1}}, kDefaultBackwardWs ? 1 : 0) == 1;
}

void set_attention_wgmma_backward_ws(int w) {
  if (w < -1 || w > 1) throw KernelError("set_attention_wgmma_backward_ws: " + std::to_string(w) + " is not -1, 0 or 1");
  g_backward_ws.store(w);
}

void set_attention_wgmma_warpgroups(int w) {
  if (w != 0 && w != 1 && w != 2) throw KernelError("set_attention_wgmma_warpgroups: " + std::to_string(w) + " is not 0, 1 or 2");
  g_warpgroups.store(w);
}

void attention_wgmma_dq(const AttentionGeometry& g, const void* q, const void* k, const void* v, const float* lse,
                        const void* dout, const float* delta, void* dq, Dtype dtype, Stream stream) {
  const int64_t tiles = tiles_for(q_bound(g), kTile);
  if (g.n_seqs <= 0 || tiles <= 0) return;
  g_calls.fetch_add(1);
  const dim3 grid = grid_for(g.n_seqs, tiles, g.q_heads, "attention_backward (wgmma, dq)");
  dispatch_tc(dtype, g.head_dim, "attention_backward (wgmma, dq)", [&](auto t, auto dc) {
    using T = decltype(t);
    constexpr int D = decltype(dc)::value;
    auto kernel = wg_dq_kernel<T, D>;
    allow_smem(kernel, dq_smem<D>(), "attention_backward (wgmma, dq)");
    kernel<<<grid, kThreads, dq_smem<D>(), stream_of(stream)>>>(g, static_cast<const T*>(q), static_cast<const T*>(k),
                                                                 static_cast<const T*>(v), lse, static_cast<const T*>(dout),
                                                                 delta, static_cast<T*>(dq), int64_t(grid.y));
  });
  check_launch("attention_backward (wgmma, dq)");
}

void attention_wgmma_dkdv(const AttentionGeometry& g, const void* q, const void* k, const void* v, const float* lse,
                          const void* dout, const float* delta, void* dk, void* dv, void* ds, Dtype dtype, Stream stream) {
  const int w = attention_wgmma_warpgroups();
  const int64_t tiles = tiles_for(kv_bound(g), int64_t(w) * kTile);
  if (g.n_seqs <= 0 || tiles <= 0) return;
  if (ds && attention_wgmma_ds_bytes(g) == 0)
    throw KernelError("attention_backward (wgmma, dk, dv): dS tiles asked for a geometry that has none "
                      "(they need batched self-attention: q_len == kv_len)");
  if (attention_wgmma_backward_ws()) return attention_wgmma_dkdv_ws(g, q, k, v, lse, dout, delta, dk, dv, ds, dtype, stream);
  g_calls.fetch_add(1);
  const dim3 grid = grid_for(g.n_seqs, tiles, g.kv_heads, "attention_backward (wgmma, dk, dv)");
  dispatch_tc(dtype, g.head_dim, "attention_backward (wgmma, dk, dv)", [&](auto t, auto dc) {
    using T = decltype(t);
    constexpr int D = decltype(dc)::value;
    auto launch = [&](auto kernel, auto wc) {
      constexpr int W = decltype(wc)::value;
      allow_smem(kernel, dkdv_smem<D, W>(), "attention_backward (wgmma, dk, dv)");
      kernel<<<grid, W * kThreads, dkdv_smem<D, W>(), stream_of(stream)>>>(
          g, static_cast<const T*>(q), static_cast<const T*>(k), static_cast<const T*>(v), lse, static_cast<const T*>(dout),
          delta, static_cast<T*>(dk), static_cast<T*>(dv), static_cast<T*>(ds), int64_t(grid.y), tiles_for(g.q_len, kTile));
    };
    using One = std::integral_constant<int, 1>;
    using Two = std::integral_constant<int, 2>;
    if (w == 2 && ds) launch(wg_dkdv_kernel<T, D, 2, true>, Two{});
    else if (w == 2) launch(wg_dkdv_kernel<T, D, 2, false>, Two{});
    else if (ds) launch(wg_dkdv_kernel<T, D, 1, true>, One{});
    else launch(wg_dkdv_kernel<T, D, 1, false>, One{});
  });
  check_launch("attention_backward (wgmma, dk, dv)");
}


}  // namespace megaswift::kernels::cuda
