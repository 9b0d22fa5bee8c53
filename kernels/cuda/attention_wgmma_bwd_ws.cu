// dk and dv on Hopper with warp specialization (attention_wgmma.hpp, attention_wgmma_dkdv_ws): the math of
// attention_wgmma.cu's dk/dv kernel (S^T = K Q^T and dP^T = V dO^T, P^T from lse, dS^T = P^T (dP^T - delta),
// dv += P^T dO, dk += dS^T Q; optionally every dS tile written for the dq-from-dS kernel) in the forward's
// warp-specialized design (attention_wgmma_fwd_ws.cu).
//
// Why: the dk/dv kernel of attention_wgmma.cu synchronizes the whole block on every step and its threads copy Q,
// dO, lse and delta themselves with cp.async; the forward in that design ran at less than half the speed it
// reached once a producer warpgroup fed it through the copy engine. Here a block is three warpgroups: a producer
// and two consumers of 64 keys each sharing every streamed tile, handed over through mbarriers. For batched
// layouts the producer's lane 0 issues bulk tensor copies of the 128 keys and values once and of each step's Q
// and dO tiles into 128-byte-swizzled tiles, and its first warp copies the step's lse and delta rows with
// cp.async. Packed sequences, whose rows past a sequence's end must read as zeros (the copy engine only knows the
// tensor's end), are copied by the producer's 128 threads with cp.async into the unswizzled panel layout.
// Measured (msw_bench_attention_cuda, H200, 2026-12-03): 0.715 ms against 1.156 at B4 S4096 Hq12 Hkv2 D128
// (576 TFLOP/s by the causal count, 2x the forward's FLOPs), 1.200 against 1.716 at B8 S4096 Hq14 Hkv2 D64.
#include <kernels/cuda/attention_wgmma.hpp>
#include <kernels/cuda/attention_common.cuh>
#include <kernels/cuda/attention_tc_ptx.cuh>
#include <kernels/cuda/attention_wgmma_ops.cuh>
#include <kernels/cuda/common.cuh>
#include <kernels/cuda/hopper_async.cuh>

#include <atomic>
#include <cstdint>
#include <type_traits>

namespace megaswift::kernels::cuda {
namespace {

using attn::allow_smem;
using attn::kv_bound;
using attn::seq_view;
using attn::SeqView;
using namespace tc_ptx;
using namespace wg;

constexpr const char* kWhat = "attention_backward (wgmma, dk, dv, warp-specialized)";
constexpr int kBwThreads = 3 * kThreads;  // the producer warpgroup, then two consumers
constexpr int kBwKeys = 2 * kRows;        // keys a block: 64 per consumer
constexpr int kBwQueries = 64;            // queries a step
// Registers per thread after the hand-over, 64,512 of the SM's 65,536: 128 x 40 + 256 x 232 with the copy engine,
// 128 x 56 + 256 x 224 when the producer's threads compute cp.async addresses.
template <bool kTma>
constexpr int kProducerRegs = kTma ? 40 : 56;
template <bool kTma>
constexpr int kConsumerRegs = kTma ? 232 : 224;
// Stages of the Q / dO ring: 32 KiB a stage at head_dim 128.
template <int D>
constexpr int kBwStages = D > 64 ? 3 : 4;

struct BwMaps {
  CUtensorMap q, k, v, dout;  // 3-D batched maps, boxes of 64 channels x 1 sequence x 64 tokens
};

template <int S>
struct BwBarriers {
  uint64_t kv_full, kv_empty;
  uint64_t full[S], empty[S];
};

template <int D, int S>
constexpr size_t bw_tiles_bytes() {
  return sizeof(uint16_t) * (2 * size_t(kBwKeys) * D + 2 * size_t(S) * kBwQueries * D) + sizeof(float) * 2 * S * kBwQueries;
}
template <int D, int S>
constexpr size_t bw_smem() { return 1024 + bw_tiles_bytes<D, S>() + sizeof(BwBarriers<S>); }

// The steps of one key tile: the group's q heads in head order, each over the 64-query tiles from the one holding
// the tile's first key's position to the end.
struct BwSteps {
  int64_t i_lo, per_head, n;
};
__device__ __forceinline__ BwSteps bw_steps(const SeqView& sv, int64_t c0, int group) {
  const int64_t off = sv.kv_len - sv.q_len;
  const int64_t i_lo = max64(0, c0 - off);
  const int64_t per_head = i_lo < sv.q_len ? (sv.q_len - i_lo + kBwQueries - 1) / kBwQueries : 0;
  return {i_lo, per_head, per_head * group};
}

template <class T, int D, int S, bool kDs, bool kTma>
__global__ void __launch_bounds__(kBwThreads, 1) wg_dkdv_ws_kernel(AttentionGeometry g, const __grid_constant__ BwMaps maps,
                                                                  const T* __restrict__ q, const T* __restrict__ k,
                                                                  const T* __restrict__ v, const T* __restrict__ dout,
                                                                  const float* __restrict__ lse, const float* __restrict__ delta,
                                                                  T* __restrict__ dk, T* __restrict__ dv, T* __restrict__ ds,
                                                                  int64_t tiles, int64_t seq_tiles) {
  extern __shared__ __align__(128) unsigned char smem_raw[];
  unsigned char* base = align_1024(smem_raw);
  T* sK = reinterpret_cast<T*>(base);  // 128 x D, swizzled: D / 64 blocks of 128 rows x 64 channels
  T* sV = sK + kBwKeys * D;
  T* sQ = sV + kBwKeys * D;            // S stages of 64 x D
  T* sO = sQ + S * kBwQueries * D;     // dO, S stages
  float* sL = reinterpret_cast<float*>(sO + S * kBwQueries * D);  // lse (natural units), S stages
  float* sD = sL + S * kBwQueries;                                 // delta, S stages
  auto* bars = reinterpret_cast<BwBarriers<S>*>(base + bw_tiles_bytes<D, S>());
  constexpr uint32_t kStepBytes = 2 * sizeof(T) * kBwQueries * D, kKvBytes = 2 * sizeof(T) * kBwKeys * D;
  const int role = __shfl_sync(0xffffffffu, static_cast<int>(threadIdx.x) / kThreads, 0);  // warp-uniform
  if (threadIdx.x == 0) {
    // Full: the copy engine's bytes and the lse / delta warp's copies, or the 128 producer threads' copies.
    mbar_init(&bars->kv_full, kTma ? 1 : kThreads);
    mbar_init(&bars->kv_empty, 8);  // lane 0 of each consumer warp
    for (int s = 0; s < S; ++s) {
      mbar_init(&bars->full[s], kTma ? 1 + 32 : kThreads);
      mbar_init(&bars->empty[s], 8);
    }
  }
  __syncthreads();

  const BlockWork bw = block_work(g.kv_heads);
  const int kvh = bw.head, group = g.q_heads / g.kv_heads;
  const SeqView sv = seq_view(g, bw.s);
  const int64_t off = sv.kv_len - sv.q_len;
  const int seq = static_cast<int>(bw.s);

  if (role == 0) {
    // ---- producer: with the copy engine, warp 0 (lane 0 the tiles, all 32 lanes the lse and delta rows); else
    // all 128 threads ----
    regs_dec<kProducerRegs<kTma>>();
    if (kTma && threadIdx.x >= 32) return;
    const int tid = threadIdx.x;
    const int64_t kv_at = sv.kv_base + int64_t(kvh) * D;
    // `rows` rows of one head from `first` into a tile: boxes of 64 channels x 64 rows, or cp.async (rows past
    // len zero).
    auto load = [&](T* dst, const CUtensorMap* map, const T* src, int64_t at, int64_t stride, int head, int64_t first,
                    int64_t len, int rows, uint64_t* bar) {
      if constexpr (kTma) {
#pragma unroll
        for (int b = 0; b < D / 64; ++b)
          for (int r = 0; r < rows; r += 64)
            tma_load(dst + b * rows * 64 + r * 64, map, head * D + b * 64, seq, static_cast<int>(first + r), bar);
      } else {
        for (int r = 0; r < rows; r += kTile)
          load_panels<D, kThreads>(dst + r * D, src, at, stride, first + r, static_cast<int>(min64(kTile, len - first - r)));
      }
    };
    uint32_t item = 0, kv_round = 0;
    for (int64_t tile = blockIdx.y; tile * kBwKeys < sv.kv_len; tile += tiles, ++kv_round) {
      const int64_t c0 = tile * kBwKeys;
      const BwSteps st = bw_steps(sv, c0, group);
      if (!kTma || tid == 0) {
        mbar_wait(&bars->kv_empty, (kv_round & 1) ^ 1);
        if constexpr (kTma) mbar_expect(&bars->kv_full, kKvBytes);
        load(sK, &maps.k, k, kv_at, sv.kv_stride, kvh, c0, sv.kv_len, kBwKeys, &bars->kv_full);
        load(sV, &maps.v, v, kv_at, sv.kv_stride, kvh, c0, sv.kv_len, kBwKeys, &bars->kv_full);
        if constexpr (!kTma) mbar_arrive_copies(&bars->kv_full);
      }
      int64_t t = 0;
      int hq = kvh * group;
      for (int64_t n = 0; n < st.n; ++n, ++item) {
        const int s = static_cast<int>(item % S);
        mbar_wait(&bars->empty[s], ((item / S) & 1) ^ 1);
        const int64_t i0 = st.i_lo + t * kBwQueries;
        const int64_t q_at = sv.q_base + int64_t(hq) * D;
        if (!kTma || tid == 0) {
          if constexpr (kTma) mbar_expect(&bars->full[s], kStepBytes);
          load(sQ + s * kBwQueries * D, &maps.q, q, q_at, sv.q_stride, hq, i0, sv.q_len, kBwQueries, &bars->full[s]);
          load(sO + s * kBwQueries * D, &maps.dout, dout, q_at, sv.q_stride, hq, i0, sv.q_len, kBwQueries, &bars->full[s]);
        }
        for (int r = tid; r < kBwQueries; r += kTma ? 32 : kThreads) {
          const bool ok = i0 + r < sv.q_len;
          const int64_t at = ok ? sv.lse_base + (i0 + r) * sv.lse_stride + hq : 0;
          cp_async4(sL + s * kBwQueries + r, lse + at, ok);
          cp_async4(sD + s * kBwQueries + r, delta + at, ok);
        }
        mbar_arrive_copies(&bars->full[s]);
        if (++t == st.per_head) {
          t = 0;
          ++hq;
        }
      }
    }
    cp_async_wait<0>();  // no copy outlives the block
    return;
  }

  // ---- consumers ----
  regs_inc<kConsumerRegs<kTma>>();
  const int cw = role - 1;  // which 64 keys of the block
  const int warp = (threadIdx.x / 32) % 4, lane = threadIdx.x % 32, gr = lane / 4;
  const float sl2 = g.scale * kLog2e;
  const int64_t kv_at = sv.kv_base + int64_t(kvh) * D;
  // The warpgroup's 64 keys: in every channel block when swizzled, 8 panels further when not.
  const T* tK = sK + cw * kRows * (kTma ? 64 : D);
  const T* tV = sV + cw * kRows * (kTma ? 64 : D);
  // Operand descriptors of both layouts: K-major (the D channels summed over) and MN-major (the rows summed over).
  auto kdesc = [](const T* tile, int rows, int kk) {
    return kTma ? (rows == kBwKeys ? sw128_k<kBwKeys>(tile, kk) : sw128_k<kBwQueries>(tile, kk)) : desc_k<D>(tile, kk);
  };
  auto mndesc = [](const T* tile, int kk) { return kTma ? sw128_mn<kBwQueries>(tile, kk) : desc_mn<D>(tile, kk); };
  uint32_t item = 0, kv_round = 0;
  for (int64_t tile = blockIdx.y; tile * kBwKeys < sv.kv_len; tile += tiles, ++kv_round) {
    const int64_t c0 = tile * kBwKeys;
    const int nk = static_cast<int>(min64(kBwKeys, sv.kv_len - c0));
    const int64_t cwk = c0 + cw * kRows;  // the warpgroup's keys: cwk .. cwk + nkw - 1
    const int nkw = nk - cw * kRows;
    const BwSteps st = bw_steps(sv, c0, group);
    float ak[D / 2], av[D / 2], sc[kBwQueries / 2], dp[kBwQueries / 2];
#pragma unroll
    for (int j = 0; j < D / 2; ++j) ak[j] = av[j] = 0.0f;
#pragma unroll
    for (int j = 0; j < kBwQueries / 2; ++j) sc[j] = dp[j] = 0.0f;
    const int64_t key0 = cwk + warp * 16 + gr;  // the thread's first key row (and key0 + 8)
    mbar_wait(&bars->kv_full, kv_round & 1);
    if constexpr (!kTma) async_proxy_fence();  // cp.async wrote through the generic proxy, wgmma reads the async one

    int64_t t = 0;
    int hq = kvh * group;
    for (int64_t n = 0; n < st.n; ++n, ++item) {
      const int s = static_cast<int>(item % S);
      mbar_wait(&bars->full[s], (item / S) & 1);
      if constexpr (!kTma) async_proxy_fence();
      const int64_t i0 = st.i_lo + t * kBwQueries;
      [[maybe_unused]] const int head = hq;
      if (++t == st.per_head) {
        t = 0;
        ++hq;
      }
      const T* tQ = sQ + s * kBwQueries * D;
      const T* tO = sO + s * kBwQueries * D;
      const float* tL = sL + s * kBwQueries;
      const float* tD = sD + s * kBwQueries;
      wg_fence();
#pragma unroll
      for (int kk = 0; kk < D / 16; ++kk)  // S^T
        Wgmma<T, kBwQueries>::ss(sc, kdesc(tK, kBwKeys, kk), kdesc(tQ, kBwQueries, kk), kk);
#pragma unroll
      for (int kk = 0; kk < D / 16; ++kk)  // dP^T
        Wgmma<T, kBwQueries>::ss(dp, kdesc(tV, kBwKeys, kk), kdesc(tO, kBwQueries, kk), kk);
      wg_commit();
      wg_wait<0>();
      settled(sc);
      settled(dp);
      if (cwk + kRows - 1 <= i0 + off && i0 + kBwQueries <= sv.q_len && nkw >= kRows)
        dkdv_probabilities<false>(sc, dp, tL, tD, i0, key0, sv.q_len, sv.kv_len, off, sl2);
      else
        dkdv_probabilities<true>(sc, dp, tL, tD, i0, key0, sv.q_len, sv.kv_len, off, sl2);
      uint32_t pa[kBwQueries / 16][4], da[kBwQueries / 16][4];
#pragma unroll
      for (int kk = 0; kk < kBwQueries / 16; ++kk) {
        scores_to_a<T>(pa[kk], sc + 8 * kk);
        scores_to_a<T>(da[kk], dp + 8 * kk);
      }
      wg_fence();
#pragma unroll
      for (int kk = 0; kk < kBwQueries / 16; ++kk)  // dv += P^T dO
        Wgmma<T, D>::rs(av, pa[kk], mndesc(tO, kk));
#pragma unroll
      for (int kk = 0; kk < kBwQueries / 16; ++kk)  // dk += dS^T Q
        Wgmma<T, D>::rs(ak, da[kk], mndesc(tQ, kk));
      wg_commit();
      if constexpr (kDs)  // beside the products; a tile above the diagonal (cwk > i0) has no dS
        if (cwk <= i0) store_ds_tile<T>(ds + ds_tile(bw.s, head, i0 / kTile, cwk / kTile, g.q_heads, seq_tiles) * (kTile * kTile), da);
      wg_wait<0>();
      if (lane == 0) mbar_arrive(&bars->empty[s]);  // every product that read the stage has landed
    }
    settled(ak);
    settled(av);
    if (lane == 0) mbar_arrive(&bars->kv_empty);
    store_dkdv_rows<T, D>(ak, av, key0, c0 + nk, kv_at, sv.kv_stride, g.scale, dk, dv);
  }
}

std::atomic<int64_t> g_calls{0}, g_tma_calls{0};

}  // namespace

int64_t attention_wgmma_dkdv_ws_calls() { return g_calls.load(); }
int64_t attention_wgmma_dkdv_tma_calls() { return g_tma_calls.load(); }

void attention_wgmma_dkdv_ws(const AttentionGeometry& g, const void* q, const void* k, const void* v, const float* lse,
                             const void* dout, const float* delta, void* dk, void* dv, void* ds, Dtype dtype, Stream stream) {
  const int64_t tiles = tiles_for(kv_bound(g), kBwKeys);
  if (g.n_seqs <= 0 || tiles <= 0) return;
  count_launch();
  g_calls.fetch_add(1);
  const bool tma = copy_engine_fits(g);
  if (tma) g_tma_calls.fetch_add(1);
  const dim3 grid = grid_for(g.n_seqs, tiles, g.kv_heads, kWhat);
  dispatch_tc(dtype, g.head_dim, kWhat, [&](auto t, auto dc) {
    using T = decltype(t);
    constexpr int D = decltype(dc)::value;
    constexpr int S = kBwStages<D>;
    auto launch = [&](auto kernel, const BwMaps& maps) {
      allow_smem(kernel, bw_smem<D, S>(), kWhat);
      kernel<<<grid, kBwThreads, bw_smem<D, S>(), stream_of(stream)>>>(
          g, maps, static_cast<const T*>(q), static_cast<const T*>(k), static_cast<const T*>(v), static_cast<const T*>(dout),
          lse, delta, static_cast<T*>(dk), static_cast<T*>(dv), static_cast<T*>(ds), int64_t(grid.y), tiles_for(g.q_len, kTile));
    };
    if (tma) {
      const int64_t qrow = int64_t(g.q_heads) * D, kvrow = int64_t(g.kv_heads) * D;
      const BwMaps maps{batched_map(q, dtype, qrow, g.n_seqs, g.q_len, kBwQueries, kWhat),
                        batched_map(k, dtype, kvrow, g.n_seqs, g.kv_len, kBwQueries, kWhat),
                        batched_map(v, dtype, kvrow, g.n_seqs, g.kv_len, kBwQueries, kWhat),
                        batched_map(dout, dtype, qrow, g.n_seqs, g.q_len, kBwQueries, kWhat)};
      if (ds) launch(wg_dkdv_ws_kernel<T, D, S, true, true>, maps);
      else launch(wg_dkdv_ws_kernel<T, D, S, false, true>, maps);
    } else {
      if (ds) launch(wg_dkdv_ws_kernel<T, D, S, true, false>, BwMaps{});
      else launch(wg_dkdv_ws_kernel<T, D, S, false, false>, BwMaps{});
    }
  });
  check_launch(kWhat);
}

}  // namespace megaswift::kernels::cuda
