// The attention forward on Hopper with warp specialization (attention_wgmma.hpp, attention_wgmma_forward):
// the math of attention_wgmma.cu's forward (online softmax in the log2 domain, P from the score registers as the
// A operand of P V) in the schedule of FlashAttention-3.
//
// Why: attention_wgmma.cu's forward synchronizes the whole block on every 64-key step (wait for the copies, one
// barrier, issue the next copies), so each step's load latency stands in the open and both warpgroups work out
// their softmax while the tensor cores idle; it ran at ~226 TFLOP/s (0.91 ms, B4 S4096 Hq12 Hkv2 D128, H200), no
// faster than mma.sync. Here a block of three warpgroups splits the work:
// - a producer warpgroup only copies, and hands each Q, K and V tile over through an mbarrier: no block-wide
//   barrier inside the key loop. For batched layouts one thread issues bulk tensor copies (TMA) into tiles in the
//   128-byte swizzle; for packed sequences, whose rows past a sequence's end must read as zeros (the copy engine
//   only knows the tensor's end), its 128 threads copy with cp.async into wgmma's unswizzled panel layout;
// - two consumer warpgroups of 64 queries each (128 a block) take 128 keys a step (m64n128 score products) and pass
//   a token (two named barriers) so that they issue their products in turn: one warpgroup's softmax runs while the
//   other's products occupy the tensor cores (FlashAttention-3's ping-pong). Each step issues its scores, then
//   the previous step's P V, and starts the softmax as soon as the scores have landed;
// - the producer gives most of its registers to the consumers (setmaxnreg), who hold O, S and P.
// Measured (msw_bench_attention_cuda, H200, 2026-12-03): 0.367 ms against 0.91 at D128 (562 TFLOP/s), 0.655
// against 1.06 at B8 S4096 Hq14 Hkv2 D64. With cp.async copies for batched layouts too it took 0.70 ms: the
// copies themselves were the bound (0.46 ms with none at all).
#include <kernels/cuda/attention_wgmma.hpp>
#include <kernels/cuda/attention_common.cuh>
#include <kernels/cuda/attention_tc_ptx.cuh>
#include <kernels/cuda/attention_wgmma_ops.cuh>
#include <kernels/cuda/hopper_async.cuh>
#include <kernels/cuda/common.cuh>

#include <atomic>
#include <cstdint>
#include <type_traits>

namespace megaswift::kernels::cuda {
namespace {

using attn::allow_smem;
using attn::q_bound;
using attn::seq_view;
using attn::SeqView;
using namespace tc_ptx;
using namespace wg;

constexpr const char* kWhat = "attention_forward (wgmma, warp-specialized)";
constexpr int kWsThreads = 3 * kThreads;  // the producer warpgroup, then two consumers
constexpr int kWsQueries = 2 * kRows;     // queries a block: 64 per consumer
constexpr int kWsKeys = 128;              // keys a step: the N of the score products
// Registers per thread after the hand-over: 128 x 56 + 256 x 224 = 64,512 of the SM's 65,536.
constexpr int kProducerRegs = 56, kConsumerRegs = 224;
// Stages of the K and V ring: two at head_dim 128 (32 KiB a tile), three at 64.
template <int D>
constexpr int kWsStages = D > 64 ? 2 : 3;

// The three maps of a launch (q, k, v), each 3-D: channels of a token row, sequence (batched layouts), token.
struct WsMaps {
  CUtensorMap q, k, v;
};

// The block's barriers, after its tiles in shared memory.
template <int S>
struct WsBarriers {
  uint64_t q_full, q_empty;
  uint64_t k_full[S], k_empty[S], v_full[S], v_empty[S];
};

template <int D, int S>
constexpr size_t ws_tiles_bytes() {
  return sizeof(uint16_t) * (size_t(kWsQueries) * D + 2 * size_t(S) * kWsKeys * D);
}
template <int D, int S>
constexpr size_t ws_smem() { return 1024 + ws_tiles_bytes<D, S>() + sizeof(WsBarriers<S>); }

// A query tile: its first query, its queries and the key tiles they see (causal).
struct WsTile {
  int64_t i0;  // first query
  int nq, n_kt;
};
__device__ __forceinline__ WsTile ws_tile(const SeqView& sv, int64_t tile) {
  const int64_t off = sv.kv_len - sv.q_len;
  const int64_t i0 = tile * kWsQueries;
  const int nq = static_cast<int>(min64(kWsQueries, sv.q_len - i0));
  const int64_t k_end = max64(0, min64(i0 + nq + off, sv.kv_len));  // keys the tile's last query sees
  return {i0, nq, static_cast<int>((k_end + kWsKeys - 1) / kWsKeys)};
}

// Calls f(tile) for the query tiles of this block, in order: pairs p = blockIdx.y, + gridDim.y, ... of the
// `total` tiles the grid was sized for, each the heavy tile total - 1 - p and then its light partner p, which
// together see total + 1 key tiles of a full causal sequence: the blocks take equal work, and the producer loads
// the second tile's keys while the consumers finish the first. A packed sequence may be longer than the grid's
// bound (max_seqlen is a hint): its tiles from `total` on go to the blocks in turn.
template <class F>
__device__ __forceinline__ void ws_for_tiles(const SeqView& sv, int64_t total, F&& f) {
  for (int64_t p = blockIdx.y; 2 * p < total; p += gridDim.y) {
    const int64_t heavy = total - 1 - p;
    if (heavy * kWsQueries < sv.q_len) f(heavy);
    if (p != heavy && p * kWsQueries < sv.q_len) f(p);
  }
  for (int64_t tile = total + blockIdx.y; tile * kWsQueries < sv.q_len; tile += gridDim.y) f(tile);
}

// Rows [first, first + 128) of one head -> a 128-row panel tile (two 64-row ones back to back), by the producer's
// 128 threads.
template <int D, class T>
__device__ __forceinline__ void ws_load(T* dst, const T* __restrict__ src, int64_t base, int64_t stride, int64_t first, int valid) {
  load_panels<D, kThreads>(dst, src, base, stride, first, valid);
  load_panels<D, kThreads>(dst + kTile * D, src, base, stride, first + kTile, valid - kTile);
}

// kTma: the producer is one thread issuing bulk tensor copies into swizzled tiles (batched layouts, whose rows
// past a sequence's end the copy engine fills with zeros); else its 128 threads copy with cp.async into panel
// tiles, zero-filling rows past the end themselves (packed sequences).
template <class T, int D, int S, bool kTma>
__global__ void __launch_bounds__(kWsThreads, 1) wg_forward_ws_kernel(AttentionGeometry g, const __grid_constant__ WsMaps maps,
                                                                     const T* __restrict__ q, const T* __restrict__ k,
                                                                     const T* __restrict__ v, T* __restrict__ out,
                                                                     float* __restrict__ lse, int64_t tiles) {
  extern __shared__ __align__(128) unsigned char smem_raw[];
  unsigned char* base = align_1024(smem_raw);
  T* sQ = reinterpret_cast<T*>(base);  // 128 x D
  T* sK = sQ + kWsQueries * D;         // S stages of 128 x D
  T* sV = sK + S * kWsKeys * D;        // S stages
  auto* bars = reinterpret_cast<WsBarriers<S>*>(base + ws_tiles_bytes<D, S>());
  constexpr int kFullCount = kTma ? 1 : kThreads;
  constexpr uint32_t kTileBytes = sizeof(T) * kWsKeys * D;  // a 128-row tile (queries or keys)
  // 0 producer, 1 and 2 the consumers; read through a shuffle so that the compiler knows it is warp-uniform (in a
  // branch it cannot prove uniform, it serializes the wgmma instructions).
  const int role = __shfl_sync(0xffffffffu, static_cast<int>(threadIdx.x) / kThreads, 0);
  if (threadIdx.x == 0) {
    mbar_init(&bars->q_full, kFullCount);
    mbar_init(&bars->q_empty, 8);  // lane 0 of each consumer warp
    for (int s = 0; s < S; ++s) {
      mbar_init(&bars->k_full[s], kFullCount);
      mbar_init(&bars->v_full[s], kFullCount);
      mbar_init(&bars->k_empty[s], 8);
      mbar_init(&bars->v_empty[s], 8);
    }
  }
  __syncthreads();  // the barriers are initialized before anyone waits on them

  const BlockWork bw = block_work(g.q_heads);
  const int h = bw.head, kvh = h / (g.q_heads / g.kv_heads);
  const SeqView sv = seq_view(g, bw.s);
  const int64_t q_at = sv.q_base + int64_t(h) * D, kv_at = sv.kv_base + int64_t(kvh) * D;

  if (role == 0) {
    // ---- producer ----
    regs_dec<kProducerRegs>();
    if (kTma && threadIdx.x != 0) return;
    // Rows [first, first + 128) of one head into a tile, handed over on `bar` once they have landed.
    auto copy = [&](T* dst, const CUtensorMap* map, const T* src, int64_t at, int64_t stride, int head, int64_t first,
                    int64_t len, uint64_t* bar) {
      if constexpr (kTma) {  // coordinates: channel, sequence, token; zeros past the tensor's last token
        mbar_expect(bar, kTileBytes);
#pragma unroll
        for (int b = 0; b < D / 64; ++b)
          tma_load(dst + b * kWsKeys * 64, map, head * D + b * 64, static_cast<int>(bw.s), static_cast<int>(first), bar);
      } else {
        ws_load<D>(dst, src, at, stride, first, static_cast<int>(min64(kWsKeys, len - first)));
        mbar_arrive_copies(bar);
      }
    };
    uint32_t item = 0, q_round = 0;
    ws_for_tiles(sv, tiles, [&](int64_t tile) {
      const WsTile t = ws_tile(sv, tile);
      mbar_wait(&bars->q_empty, (q_round & 1) ^ 1);
      copy(sQ, &maps.q, q, q_at, sv.q_stride, h, t.i0, sv.q_len, &bars->q_full);
      for (int kt = 0; kt < t.n_kt; ++kt, ++item) {
        const int st = static_cast<int>(item % S);
        const uint32_t ph = (item / S) & 1;
        const int64_t k1 = int64_t(kt) * kWsKeys;
        mbar_wait(&bars->k_empty[st], ph ^ 1);
        copy(sK + st * kWsKeys * D, &maps.k, k, kv_at, sv.kv_stride, kvh, k1, sv.kv_len, &bars->k_full[st]);
        mbar_wait(&bars->v_empty[st], ph ^ 1);
        copy(sV + st * kWsKeys * D, &maps.v, v, kv_at, sv.kv_stride, kvh, k1, sv.kv_len, &bars->v_full[st]);
      }
      ++q_round;
    });
    if constexpr (!kTma) cp_async_wait<0>();  // no copy outlives the block
    return;
  }

  // ---- consumers ----
  regs_inc<kConsumerRegs>();
  const int cw = role - 1;  // which 64 queries of the block
  const int warp = (threadIdx.x / 32) % 4, lane = threadIdx.x % 32;
  const int my_bar = 1 + cw, other_bar = 2 - cw;
  const int64_t off = sv.kv_len - sv.q_len;  // query i sees keys [0, i + off + 1)
  const float sl2 = g.scale * kLog2e;
  const T* tQ = sQ + cw * kTile * (kTma ? 64 : D);  // the warpgroup's 64 queries (in every channel block when swizzled)
  if (cw == 1) named_arrive(other_bar);  // the first consumer issues first
  uint32_t item = 0, q_round = 0;
  ws_for_tiles(sv, tiles, [&](int64_t tile) {
    const WsTile t = ws_tile(sv, tile);
    const int64_t row0 = t.i0 + cw * kRows + warp * 16;
    float o[D / 2], sc[kWsKeys / 2];
    float m[2] = {-INFINITY, -INFINITY}, l[2] = {0.0f, 0.0f};
    uint32_t pa[kWsKeys / 16][4];  // P of the last step, rounded to T: the A operand of its P V
#pragma unroll
    for (int j = 0; j < D / 2; ++j) o[j] = 0.0f;
#pragma unroll
    for (int j = 0; j < kWsKeys / 2; ++j) sc[j] = 0.0f;
    mbar_wait(&bars->q_full, q_round & 1);
    if constexpr (!kTma) async_proxy_fence();

    // Step n issues P V of key tile n - 1 (n > 0) and the scores of key tile n (n < n_kt), in the token's turn.
    // Which of the two a step has is a compile-time flag: with the choice made at run time the compiler serializes
    // the products.
    auto step = [&](int n, auto with_pv, auto with_scores) {
      constexpr bool pv = decltype(with_pv)::value, scores = decltype(with_scores)::value;
      const uint32_t it_s = item + n, it_v = item + n - 1;
      const int st_s = static_cast<int>(it_s % S), st_v = static_cast<int>(it_v % S);
      if constexpr (scores) mbar_wait(&bars->k_full[st_s], (it_s / S) & 1);
      if constexpr (pv) mbar_wait(&bars->v_full[st_v], (it_v / S) & 1);
      // cp.async wrote through the generic proxy; wgmma reads through the async one (as the copy engine writes).
      if constexpr (!kTma) async_proxy_fence();
      named_sync(my_bar);
      wg_fence();
      auto issue_pv = [&] {
        const T* tV = sV + st_v * kWsKeys * D;
#pragma unroll
        for (int kk = 0; kk < kWsKeys / 16; ++kk)
          Wgmma<T, D>::rs(o, pa[kk], kTma ? sw128_mn<kWsKeys>(tV, kk) : desc_mn<D>(tV, kk));
      };
      auto issue_scores = [&] {
        const T* tK = sK + st_s * kWsKeys * D;
#pragma unroll
        for (int kk = 0; kk < D / 16; ++kk)
          Wgmma<T, kWsKeys>::ss(sc, kTma ? sw128_k<kWsQueries>(tQ, kk) : desc_k<D>(tQ, kk),
                                kTma ? sw128_k<kWsKeys>(tK, kk) : desc_k<D>(tK, kk), kk);
      };
      // The scores first, in a commit group of their own: the softmax starts while P V runs.
      if constexpr (scores) {
        issue_scores();
        wg_commit();
      }
      if constexpr (pv) {
        issue_pv();
        wg_commit();
      }
      named_arrive(other_bar);
      [[maybe_unused]] float alpha[2] = {1.0f, 1.0f};
      if constexpr (scores) {
        if constexpr (pv) wg_wait<1>();
        else wg_wait<0>();
        settled(sc);
        if (lane == 0) mbar_arrive(&bars->k_empty[st_s]);
        // The softmax of key tile n, while P V of tile n - 1 runs.
        mask_scores<kWsKeys / 2>(sc, row0, int64_t(n) * kWsKeys, off, sv.kv_len);
        online_softmax<kWsKeys / 2>(sc, m, l, alpha, sl2);
      }
      wg_wait<0>();  // P V has landed in O (and released pa)
      settled(o);
      if constexpr (pv)
        if (lane == 0) mbar_arrive(&bars->v_empty[st_v]);
      if constexpr (scores) {
#pragma unroll
        for (int r = 0; r < 2; ++r)
#pragma unroll
          for (int j = 0; j < D / 8; ++j) {
            o[4 * j + 2 * r] *= alpha[r];
            o[4 * j + 2 * r + 1] *= alpha[r];
          }
#pragma unroll
        for (int kk = 0; kk < kWsKeys / 16; ++kk) scores_to_a<T>(pa[kk], sc + 8 * kk);
      }
    };
    if (t.n_kt > 0) {
      step(0, std::false_type{}, std::true_type{});
      for (int n = 1; n < t.n_kt; ++n) step(n, std::true_type{}, std::true_type{});
      step(t.n_kt, std::true_type{}, std::false_type{});
    }
    item += static_cast<uint32_t>(t.n_kt);
    if (lane == 0) mbar_arrive(&bars->q_empty);  // the tile's score products, the last readers of Q, have landed

    store_forward_rows<T, D>(o, m, l, sl2, out, q_at, sv.q_stride, sv.q_len, row0, lse,
                             [&](int64_t i) { return sv.lse_base + i * sv.lse_stride + h; });
    ++q_round;
  });
  // The second consumer's last pass of the token has no issue after it: the first takes it here, so that no
  // barrier is left half arrived at exit.
  if (cw == 0) named_sync(my_bar);
}

std::atomic<int64_t> g_tma_calls{0};

}  // namespace

int64_t attention_wgmma_forward_tma_calls() { return g_tma_calls.load(); }

void attention_wgmma_forward(const AttentionGeometry& g, const void* q, const void* k, const void* v, Dtype dtype,
                             void* out, float* lse, Stream stream) {
  const int64_t tiles = tiles_for(q_bound(g), kWsQueries);
  if (g.n_seqs <= 0 || tiles <= 0) return;
  wg::count_launch();
  const dim3 grid = grid_for(g.n_seqs, (tiles + 1) / 2, g.q_heads, kWhat);
  dispatch_tc(dtype, g.head_dim, kWhat, [&](auto t, auto dc) {
    using T = decltype(t);
    constexpr int D = decltype(dc)::value;
    constexpr int S = kWsStages<D>;
    auto launch = [&](auto kernel, const WsMaps& maps) {
      allow_smem(kernel, ws_smem<D, S>(), kWhat);
      kernel<<<grid, kWsThreads, ws_smem<D, S>(), stream_of(stream)>>>(g, maps, static_cast<const T*>(q),
                                                                       static_cast<const T*>(k), static_cast<const T*>(v),
                                                                       static_cast<T*>(out), lse, tiles);
    };
    if (copy_engine_fits(g)) {
      g_tma_calls.fetch_add(1);
      const WsMaps maps{batched_map(q, dtype, int64_t(g.q_heads) * D, g.n_seqs, g.q_len, kWsKeys, kWhat),
                        batched_map(k, dtype, int64_t(g.kv_heads) * D, g.n_seqs, g.kv_len, kWsKeys, kWhat),
                        batched_map(v, dtype, int64_t(g.kv_heads) * D, g.n_seqs, g.kv_len, kWsKeys, kWhat)};
      launch(wg_forward_ws_kernel<T, D, S, true>, maps);
    } else {
      launch(wg_forward_ws_kernel<T, D, S, false>, WsMaps{});
    }
  });
  check_launch(kWhat);
}

}  // namespace megaswift::kernels::cuda
