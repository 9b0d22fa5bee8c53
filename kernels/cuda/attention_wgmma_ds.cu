// dq from the dS tiles the wgmma dk/dv kernel wrote (attention_wgmma.hpp): one product per (query tile, key tile)
// pair, in place of a dq kernel that recomputes S and dP. The tiles' layout and the shared primitives are in
// attention_wgmma_ops.cuh.
#include <kernels/cuda/attention_wgmma.hpp>
#include <kernels/cuda/attention_common.cuh>
#include <kernels/cuda/attention_tc_ptx.cuh>
#include <kernels/cuda/attention_wgmma_ops.cuh>
#include <kernels/cuda/common.cuh>

#include <cstdint>

namespace megaswift::kernels::cuda {
namespace {

using attn::allow_smem;
using attn::seq_view;
using attn::SeqView;
using namespace tc_ptx;
using namespace wg;

// ---- dq from the dS tiles ----

// wg_dq_ds_kernel<T, D, W, H>: W warpgroups, H q heads each, so W H heads of one kv group share every K tile a
// block streams. The kernel moves ~8 KiB of dS per 64 x D x 64 product and is bound by memory: sharing K across
// the group's heads takes its reads from 2/3 of the traffic (one head per block) to 1/7 (six).
template <int D, int W, int H>
struct DqDs {
  static constexpr int kHeads = W * H;
  static constexpr int kThreadsPerBlock = W * kThreads;
  static constexpr int kStageElems = kHeads * kTile * kTile + kTile * D;  // dS of each head, then K
  // Registers bound the blocks per SM: one warpgroup of D / 2 accumulators (a third block at head_dim 64), two
  // of one head each at head_dim 64; otherwise one block.
  static constexpr int kBlocksPerSm = W == 1 ? (D > 64 ? 2 : 3) : (H == 1 && D == 64 ? 2 : 1);
  // As many stages as ~200 KiB of shared memory per SM holds, 3 to 6.
  static constexpr int kStagesFit = int((200u << 10) / (kBlocksPerSm * kStageElems * sizeof(uint16_t)));
  static constexpr int kStages = kStagesFit > 6 ? 6 : kStagesFit;
  static_assert(kStages >= 3, "a (dS, K) stage too large for the pipeline");
  static constexpr size_t smem() { return sizeof(uint16_t) * size_t(kStages) * kStageElems; }
};

// dq of one (sequence, 64-query tile i) for W H q heads of one kv group (the group's `slot`-th W H; past the
// group's end a block has fewer): dq = scale * sum over key tiles j <= i of dS_ij K_j, with the dS tiles
// wg_dkdv_kernel<kDs> wrote (the same rounded dS its dk used), one product per tile pair instead of the dq
// kernel's three (S, dP and this one). Stage t % kStages holds step t's dS tiles and K tile; the copies run
// kStages - 2 steps ahead, and a stage is refilled once the products that read it are done (wg_wait<1> leaves
// only the newest step's group in flight).
template <class T, int D, int W, int H>
__global__ void __launch_bounds__(DqDs<D, W, H>::kThreadsPerBlock, DqDs<D, W, H>::kBlocksPerSm)
    wg_dq_ds_kernel(AttentionGeometry g, const T* __restrict__ k, const T* __restrict__ ds, T* __restrict__ dq,
                    int64_t tiles, int64_t seq_tiles, int slots) {
  using P = DqDs<D, W, H>;
  constexpr int S = P::kStages;
  extern __shared__ __align__(128) unsigned char smem_raw[];
  T* sm = reinterpret_cast<T*>(smem_raw);
  const int wg = threadIdx.x / kThreads, warp = (threadIdx.x / 32) % 4, lane = threadIdx.x % 32, gr = lane / 4, tq = lane % 4;
  const int group = g.q_heads / g.kv_heads;
  const BlockWork bw = block_work(g.kv_heads * slots);
  const int kvh = bw.head / slots, slot = bw.head - kvh * slots;
  const int h0 = kvh * group + slot * P::kHeads;                   // the block's first q head
  const int n_heads = min(P::kHeads, group - slot * P::kHeads);    // and how many it has
  const SeqView sv = seq_view(g, bw.s);
  const int64_t kv_at = sv.kv_base + int64_t(kvh) * D;
  for (int64_t tile = tiles - 1 - int64_t(blockIdx.y); tile * kRows < sv.q_len; tile += tiles) {
    const int64_t n_kt = tile + 1;  // queries and keys on one grid: query tile i sees key tiles 0 .. i
    auto load = [&](int64_t t) {
      if (t < n_kt) {
        T* stage = sm + (t % S) * P::kStageElems;
        for (int c = threadIdx.x; c < n_heads * (kTile * kTile / 8); c += P::kThreadsPerBlock) {
          const int hh = c / (kTile * kTile / 8), e = (c % (kTile * kTile / 8)) * 8;
          const T* from = ds + (ds_tile(bw.s, h0 + hh, tile, 0, g.q_heads, seq_tiles) + t) * (kTile * kTile);
          cp_async16(stage + hh * kTile * kTile + e, from + e, true);
        }
        const int64_t k1 = t * kTile;
        load_panels<D, P::kThreadsPerBlock>(stage + P::kHeads * kTile * kTile, k, kv_at, sv.kv_stride, k1,
                                            static_cast<int>(min64(kTile, sv.kv_len - k1)));
      }
      cp_async_commit();  // one group per step, empty past the last
    };
    __syncthreads();  // the previous tile is done with shared memory
#pragma unroll
    for (int t = 0; t < S - 2; ++t) load(t);
    float acc[H][D / 2];
#pragma unroll
    for (int hh = 0; hh < H; ++hh)
#pragma unroll
      for (int j = 0; j < D / 2; ++j) acc[hh][j] = 0.0f;
    for (int64_t t = 0; t < n_kt; ++t) {
      cp_async_wait<S - 3>();  // step t's group
      async_proxy_fence();
      __syncthreads();  // step t is visible to every thread, and step t - 2's products are done in every thread
      load(t + S - 2);  // into step t - 2's stage
      const T* stage = sm + (t % S) * P::kStageElems;
      const T* tK = stage + P::kHeads * kTile * kTile;
      wg_fence();
      // A head past the block's last multiplies the first head's tile and is not written: a product under a
      // branch makes the compiler fence the accumulators around it.
#pragma unroll
      for (int hh = 0; hh < H; ++hh) {
        const T* tS = stage + (wg * H + hh < n_heads ? wg * H + hh : 0) * kTile * kTile;
#pragma unroll
        for (int kk = 0; kk < kTile / 16; ++kk) Wgmma<T, D>::ss_mn(acc[hh], desc_k<kTile>(tS, kk), desc_mn<D>(tK, kk), 1);
      }
      wg_commit();
      wg_wait<1>();
    }
    wg_wait<0>();
#pragma unroll
    for (int hh = 0; hh < H; ++hh) settled(acc[hh]);
    cp_async_wait<0>();
#pragma unroll
    for (int hh = 0; hh < H; ++hh) {
      if (wg * H + hh >= n_heads) continue;
      const int64_t q_at = sv.q_base + int64_t(h0 + wg * H + hh) * D;
#pragma unroll
      for (int r = 0; r < 2; ++r) {
        const int64_t i = tile * kRows + warp * 16 + gr + 8 * r;
        if (i >= sv.q_len) continue;
        T* dst = dq + q_at + i * sv.q_stride + 2 * tq;
#pragma unroll
        for (int j = 0; j < D / 8; ++j)
          *reinterpret_cast<uint32_t*>(dst + j * 8) =
              pack<T>(g.scale * acc[hh][4 * j + 2 * r], g.scale * acc[hh][4 * j + 2 * r + 1]);
      }
    }
  }
}

}  // namespace

int64_t attention_wgmma_ds_bytes(const AttentionGeometry& g) {
  if (g.q_packed || g.kv != AttentionKv::batched || g.q_len != g.kv_len || g.n_seqs <= 0 || g.q_len <= 0) return 0;
  const int64_t t = tiles_for(g.q_len, kTile);
  return g.n_seqs * g.q_heads * (t * (t + 1) / 2) * int64_t(kTile * kTile) * int64_t(sizeof(uint16_t));
}

void attention_wgmma_dq_from_ds(const AttentionGeometry& g, const void* k, const void* ds, void* dq, Dtype dtype,
                                Stream stream) {
  if (attention_wgmma_ds_bytes(g) == 0)
    throw KernelError("attention_backward (wgmma, dq from dS): the geometry has no dS tiles "
                      "(they need batched self-attention: q_len == kv_len)");
  const int64_t tiles = tiles_for(g.q_len, kTile);
  wg::count_launch();
  // Heads per block: the fewest blocks per kv group, each costing its heads' dS plus one K (~1.5 heads' worth of
  // bytes): six heads for a group of 6 (Qwen2.5-1.5B), two blocks of four and three for 7 (0.5B), one for MHA.
  const int group = g.q_heads / g.kv_heads;
  struct Shape {
    int w, h;
  };
  Shape best{1, 1};
  double best_cost = 0.0;
  for (const Shape sh : {Shape{2, 3}, Shape{2, 2}, Shape{2, 1}, Shape{1, 1}}) {
    const int heads = sh.w * sh.h, slots = (group + heads - 1) / heads;
    const double cost = slots * (heads + 1.5);
    if (best_cost == 0.0 || cost < best_cost) {
      best = sh;
      best_cost = cost;
    }
  }
  const int slots = (group + best.w * best.h - 1) / (best.w * best.h);
  const dim3 grid = grid_for(g.n_seqs, tiles, g.kv_heads * slots, "attention_backward (wgmma, dq from dS)");
  dispatch_tc(dtype, g.head_dim, "attention_backward (wgmma, dq from dS)", [&](auto t, auto dc) {
    using T = decltype(t);
    constexpr int D = decltype(dc)::value;
    auto launch = [&](auto kernel, auto shape) {
      using P = decltype(shape);
      allow_smem(kernel, P::smem(), "attention_backward (wgmma, dq from dS)");
      kernel<<<grid, P::kThreadsPerBlock, P::smem(), stream_of(stream)>>>(
          g, static_cast<const T*>(k), static_cast<const T*>(ds), static_cast<T*>(dq), int64_t(grid.y), tiles, slots);
    };
    if (best.w == 2 && best.h == 3) launch(wg_dq_ds_kernel<T, D, 2, 3>, DqDs<D, 2, 3>{});
    else if (best.w == 2 && best.h == 2) launch(wg_dq_ds_kernel<T, D, 2, 2>, DqDs<D, 2, 2>{});
    else if (best.w == 2) launch(wg_dq_ds_kernel<T, D, 2, 1>, DqDs<D, 2, 1>{});
    else launch(wg_dq_ds_kernel<T, D, 1, 1>, DqDs<D, 1, 1>{});
  });
  check_launch("attention_backward (wgmma, dq from dS)");
}

}  // namespace megaswift::kernels::cuda
