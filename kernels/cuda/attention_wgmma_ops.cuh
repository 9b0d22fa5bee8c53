// What the Hopper attention kernels share (attention_wgmma.cu: forward, dq, dk/dv; attention_wgmma_ds.cu: dq from
// materialized dS): the warpgroup tile constants, the wgmma wrappers and shared-memory descriptors, the cp.async
// loads of 64-row tiles into wgmma's canonical panel layout, and the dS tiles' index. See attention_wgmma.cu for
// the layout and the pipeline.
#pragma once

#include <kernels/cuda/attention_common.cuh>
#include <kernels/cuda/attention_tc_ptx.cuh>
#include <kernels/cuda/common.cuh>

#include <cstdint>

namespace megaswift::kernels::cuda::wg {

using attn::SeqView;
using namespace tc_ptx;

constexpr int kRows = 64;       // a warpgroup's M: keys per dk/dv block, queries per dq block
constexpr int kCols = 64;       // queries per dk/dv step, keys per dq step (the N of the score products)
constexpr int kThreads = 128;   // one warpgroup
constexpr int kTile = 64;       // rows of every streamed tile (kRows == kCols)

template <int D>
constexpr int kBlocksPerSm = D > 64 ? 2 : 3;
// Blocks per SM of a kernel with W warpgroups: one warpgroup's (registers bound them), or one block of two (at
// head_dim 64 two such dk/dv blocks would spill ~500 bytes a thread at 128 registers).
template <int D, int W>
constexpr int kBlocksPerSmW = W == 1 ? kBlocksPerSm<D> : 1;

// ---- wgmma ----

// d (fp32, 64 x N, mma.sync's C layout per warp) = [d +] A (64 x 16) B (16 x N) for T operands. ss: A and B
// K-major in shared memory (accumulate 0 overwrites d); ss_mn: the same with B MN-major (transposed); rs: A from
// registers (mma.sync's A layout per warp), B MN-major in shared memory, accumulating.
template <class T, int N>
struct Wgmma {
  static __device__ void ss(float (&d)[N / 2], uint64_t a, uint64_t b, int accumulate);
  static __device__ void ss_mn(float (&d)[N / 2], uint64_t a, uint64_t b, int accumulate);
  static __device__ void rs(float (&d)[N / 2], const uint32_t (&a)[4], uint64_t b);
};

// The accumulator operands of an m64nNk16 (N / 2 fp32 registers per thread), as PTX operand list and asm outputs.
#define MSW_WG_REGS_64 "{%0, %1, %2, %3, %4, %5, %6, %7, %8, %9, %10, %11, %12, %13, %14, %15, %16, %17, %18, %19, %20, %21, %22, %23, %24, %25, %26, %27, %28, %29, %30, %31}"
#define MSW_WG_REGS_128 "{%0, %1, %2, %3, %4, %5, %6, %7, %8, %9, %10, %11, %12, %13, %14, %15, %16, %17, %18, %19, %20, %21, %22, %23, %24, %25, %26, %27, %28, %29, %30, %31, %32, %33, %34, %35, %36, %37, %38, %39, %40, %41, %42, %43, %44, %45, %46, %47, %48, %49, %50, %51, %52, %53, %54, %55, %56, %57, %58, %59, %60, %61, %62, %63}"
#define MSW_WG_OUTS_64 "+f"(d[0]), "+f"(d[1]), "+f"(d[2]), "+f"(d[3]), "+f"(d[4]), "+f"(d[5]), "+f"(d[6]), "+f"(d[7]), "+f"(d[8]), "+f"(d[9]), "+f"(d[10]), "+f"(d[11]), "+f"(d[12]), "+f"(d[13]), "+f"(d[14]), "+f"(d[15]), "+f"(d[16]), "+f"(d[17]), "+f"(d[18]), "+f"(d[19]), "+f"(d[20]), "+f"(d[21]), "+f"(d[22]), "+f"(d[23]), "+f"(d[24]), "+f"(d[25]), "+f"(d[26]), "+f"(d[27]), "+f"(d[28]), "+f"(d[29]), "+f"(d[30]), "+f"(d[31])
#define MSW_WG_OUTS_128 "+f"(d[0]), "+f"(d[1]), "+f"(d[2]), "+f"(d[3]), "+f"(d[4]), "+f"(d[5]), "+f"(d[6]), "+f"(d[7]), "+f"(d[8]), "+f"(d[9]), "+f"(d[10]), "+f"(d[11]), "+f"(d[12]), "+f"(d[13]), "+f"(d[14]), "+f"(d[15]), "+f"(d[16]), "+f"(d[17]), "+f"(d[18]), "+f"(d[19]), "+f"(d[20]), "+f"(d[21]), "+f"(d[22]), "+f"(d[23]), "+f"(d[24]), "+f"(d[25]), "+f"(d[26]), "+f"(d[27]), "+f"(d[28]), "+f"(d[29]), "+f"(d[30]), "+f"(d[31]), "+f"(d[32]), "+f"(d[33]), "+f"(d[34]), "+f"(d[35]), "+f"(d[36]), "+f"(d[37]), "+f"(d[38]), "+f"(d[39]), "+f"(d[40]), "+f"(d[41]), "+f"(d[42]), "+f"(d[43]), "+f"(d[44]), "+f"(d[45]), "+f"(d[46]), "+f"(d[47]), "+f"(d[48]), "+f"(d[49]), "+f"(d[50]), "+f"(d[51]), "+f"(d[52]), "+f"(d[53]), "+f"(d[54]), "+f"(d[55]), "+f"(d[56]), "+f"(d[57]), "+f"(d[58]), "+f"(d[59]), "+f"(d[60]), "+f"(d[61]), "+f"(d[62]), "+f"(d[63])

// Wgmma<T, N>'s products for one operand type (PTX name P); A, B, ... are the operand numbers after the N / 2
// accumulators: ss's two descriptors and its accumulate flag, rs's four A registers and its B descriptor.
#define MSW_WGMMA_SS(T, P, N, F, TB, A, B, C)                                                                   \
  template <>                                                                                                    \
  __device__ __forceinline__ void Wgmma<T, N>::F(float(&d)[N / 2], uint64_t a, uint64_t b, int accumulate) {      \
    asm volatile("{\n.reg .pred p;\nsetp.ne.b32 p, %" #C ", 0;\nwgmma.mma_async.sync.aligned.m64n" #N "k16.f32." P \
                 "." P " " MSW_WG_REGS_##N ", %" #A ", %" #B ", p, 1, 1, 0, " #TB ";\n}\n"                          \
                 : MSW_WG_OUTS_##N                                                                              \
                 : "l"(a), "l"(b), "r"(accumulate));                                                            \
  }
#define MSW_WGMMA(T, P, N, A, B, C, D, E)                                                                        \
  MSW_WGMMA_SS(T, P, N, ss, 0, A, B, C)                                                                          \
  MSW_WGMMA_SS(T, P, N, ss_mn, 1, A, B, C)                                                                       \
  template <>                                                                                                    \
  __device__ __forceinline__ void Wgmma<T, N>::rs(float(&d)[N / 2], const uint32_t(&a)[4], uint64_t b) {          \
    asm volatile("{\nwgmma.mma_async.sync.aligned.m64n" #N "k16.f32." P "." P " " MSW_WG_REGS_##N ", {%" #A       \
                 ", %" #B ", %" #C ", %" #D "}, %" #E ", 1, 1, 1, 1;\n}\n"                                          \
                 : MSW_WG_OUTS_##N                                                                              \
                 : "r"(a[0]), "r"(a[1]), "r"(a[2]), "r"(a[3]), "l"(b));                                         \
  }

MSW_WGMMA(__nv_bfloat16, "bf16", 64, 32, 33, 34, 35, 36)
MSW_WGMMA(__half, "f16", 64, 32, 33, 34, 35, 36)
MSW_WGMMA(__nv_bfloat16, "bf16", 128, 64, 65, 66, 67, 68)
MSW_WGMMA(__half, "f16", 128, 64, 65, 66, 67, 68)
#undef MSW_WGMMA
#undef MSW_WGMMA_SS

__device__ __forceinline__ void wg_fence() { asm volatile("wgmma.fence.sync.aligned;\n" ::: "memory"); }
__device__ __forceinline__ void wg_commit() { asm volatile("wgmma.commit_group.sync.aligned;\n" ::: "memory"); }
// Waits until at most N of the warp's committed groups are in flight.
template <int N>
__device__ __forceinline__ void wg_wait() { asm volatile("wgmma.wait_group.sync.aligned %0;\n" ::"n"(N) : "memory"); }
// cp.async wrote shared memory through the generic proxy; wgmma reads it through the async proxy.
__device__ __forceinline__ void async_proxy_fence() { asm volatile("fence.proxy.async.shared::cta;\n" ::: "memory"); }

// The compiler sees a wgmma's accumulators written when the instruction issues; this ties later reads of them
// to a point after wg_wait (both are volatile asm, which keep their order).
template <int N>
__device__ __forceinline__ void settled(float (&r)[N]) {
#pragma unroll
  for (int i = 0; i < N; ++i) asm volatile("" : "+f"(r[i])::"memory");
}

// A shared-memory matrix descriptor without swizzle: start address, then the byte strides between neighbouring
// core matrices along K (leading) and along M or N (stride), all in 16-byte units.
__device__ __forceinline__ uint64_t smem_desc(const void* p, uint32_t leading, uint32_t stride) {
  return uint64_t((smem_addr(p) & 0x3FFFFu) >> 4) | (uint64_t(leading >> 4) << 16) | (uint64_t(stride >> 4) << 32);
}
// A panel tile as a K-major operand, k-step kk = channels 16 kk .. 16 kk + 15 (core matrices 2 kk and 2 kk + 1).
template <int D, class T>
__device__ __forceinline__ uint64_t desc_k(const T* tile, int kk) {
  return smem_desc(tile + kk * 128, 128, 16 * D);
}
// A panel tile as an MN-major operand summed over its rows, k-step kk = rows 16 kk .. 16 kk + 15 (panels 2 kk
// and 2 kk + 1), N = the D channels.
template <int D, class T>
__device__ __forceinline__ uint64_t desc_mn(const T* tile, int kk) {
  return smem_desc(tile + kk * 16 * D, 16 * D, 128);
}

// Rows [first, first + kTile) of one head -> a panel tile, asynchronously, by the block's Threads threads; rows
// from `valid` on are zero.
template <int D, int Threads = kThreads, class T>
__device__ __forceinline__ void load_panels(T* dst, const T* __restrict__ src, int64_t base, int64_t stride, int64_t first,
                                            int valid) {
  constexpr int C = D / 8, quads = C / 4;  // 16-byte chunks per row; groups of 32 chunks per panel
  for (int idx = threadIdx.x; idx < kTile * C; idx += Threads) {
    const int lane = idx & 31, group = idx >> 5, panel = group / quads;
    const int r = panel * 8 + (lane & 7), c = (group - panel * quads) * 4 + (lane >> 3);
    const bool ok = r < valid;
    cp_async16(dst + panel * 8 * D + c * 64 + (lane & 7) * 8, ok ? src + base + (first + r) * stride + c * 8 : src, ok);
  }
}

// Key tile t (keys t * kCols ..) of one kv head's K and V into shared-memory stage `stage`, nothing past the last
// of n_kt tiles; one cp.async commit group either way, so that "all groups but the newest" means the same on every
// step (the forward and dq kernels stream keys alike).
template <int D, int Threads = kThreads, class T>
__device__ __forceinline__ void load_key_tile(T* sK, T* sV, const T* __restrict__ k, const T* __restrict__ v,
                                              const SeqView& sv, int64_t kv_at, int t, int n_kt, int stage) {
  if (t < n_kt) {
    const int64_t k1 = int64_t(t) * kCols;
    const int nk = static_cast<int>(min64(kCols, sv.kv_len - k1));
    load_panels<D, Threads>(sK + stage * kTile * D, k, kv_at, sv.kv_stride, k1, nk);
    load_panels<D, Threads>(sV + stage * kTile * D, v, kv_at, sv.kv_stride, k1, nk);
  }
  cp_async_commit();
}

// Rows [first, first + W kTile) of one head -> W panel tiles one after another (rows from `valid` on zero).
template <int D, int W, class T>
__device__ __forceinline__ void load_panels_w(T* dst, const T* __restrict__ src, int64_t base, int64_t stride,
                                              int64_t first, int valid) {
#pragma unroll
  for (int w = 0; w < W; ++w)
    load_panels<D, W * kThreads>(dst + w * kTile * D, src, base, stride, first + w * kTile, valid - w * kTile);
}

// The A fragment of k-step kk (score columns 16 kk .. 16 kk + 15) from score accumulators (n8 tile j at 4 j).
template <class T>
__device__ __forceinline__ void scores_to_a(uint32_t (&a)[4], const float* s) {
  a[0] = pack<T>(s[0], s[1]);
  a[1] = pack<T>(s[2], s[3]);
  a[2] = pack<T>(s[4], s[5]);
  a[3] = pack<T>(s[6], s[7]);
}

// The dS tiles of a backward (attention_wgmma_ds_bytes): per sequence s and q head h, the tiles of 64 queries x 64
// keys below the diagonal, row by row (query tile i holds key tiles 0 .. i, which are contiguous), each in the
// panel layout of a 64-wide tile (a K-major operand summed over its keys). seq_tiles: query tiles per sequence.
__host__ __device__ __forceinline__ int64_t ds_tile(int64_t s, int h, int64_t i, int64_t j, int heads, int64_t seq_tiles) {
  return (s * heads + h) * (seq_tiles * (seq_tiles + 1) / 2) + i * (i + 1) / 2 + j;
}

// P^T and dS^T of a dk/dv step in place of S^T (s) and dP^T (dp): the warp's key rows key0 and key0 + 8, the
// step's queries i0 + 8 j + 2 tq (+ 1) as columns, their lse (natural units) and delta from tL and tD. kChecked:
// pairs past the diagonal or an end are 0 (a step that crosses neither skips the test: with it folded in, the
// compiler keeps it on every step, 1.5x the kernel's time).
template <bool kChecked, int N>
__device__ __forceinline__ void dkdv_probabilities(float (&s)[N], float (&dp)[N], const float* tL, const float* tD,
                                                   int64_t i0, int64_t key0, int64_t q_len, int64_t kv_len, int64_t off,
                                                   float sl2) {
  const int tq = threadIdx.x % 4;
#pragma unroll
  for (int j = 0; j < N / 4; ++j) {
    const float2 l2 = *reinterpret_cast<const float2*>(tL + 8 * j + 2 * tq);
    const float2 d2 = *reinterpret_cast<const float2*>(tD + 8 * j + 2 * tq);
#pragma unroll
    for (int e = 0; e < 4; ++e) {
      const int64_t i = i0 + 8 * j + 2 * tq + (e & 1), key = key0 + (e >= 2 ? 8 : 0);
      const bool ok = !kChecked || (i < q_len && key < kv_len && key <= i + off);
      const float lq = (e & 1) ? l2.y : l2.x, dq = (e & 1) ? d2.y : d2.x;
      const float p = ok ? exp2_ftz(fmaf(s[4 * j + e], sl2, -lq * kLog2e)) : 0.0f;
      s[4 * j + e] = p;                          // P^T
      dp[4 * j + e] = p * (dp[4 * j + e] - dq);  // dS^T
    }
  }
}

// dS (64 queries x 64 keys, ds_tile's panel layout) from a warpgroup's dS^T A fragments: da[kk][m] is the 8 x 8
// block of keys 16 warp + 8 (m & 1) and queries 16 kk + 8 (m >> 1); transposed, thread (gr, tq) holds query ... +
// gr, keys ... + 2 tq and + 1, which sit side by side in the panel layout: a warp stores 128 contiguous bytes per
// block.
template <class T>
__device__ __forceinline__ void store_ds_tile(T* tile_ds, const uint32_t (&da)[kCols / 16][4]) {
  const int warp = (threadIdx.x / 32) % 4, lane = threadIdx.x % 32, gr = lane / 4, tq = lane % 4;
#pragma unroll
  for (int kk = 0; kk < kCols / 16; ++kk)
#pragma unroll
    for (int m = 0; m < 4; ++m)
      *reinterpret_cast<uint32_t*>(tile_ds + (2 * kk + (m >> 1)) * 8 * kTile + (2 * warp + (m & 1)) * 64 + gr * 8 + 2 * tq) =
          transpose8x8(da[kk][m]);
}

// The end of dk/dv for a warp's key rows key0 and key0 + 8 (those before key_end): dk = scale * ak, dv = av,
// rounded to T, at kv_at + key * kv_stride.
template <class T, int D>
__device__ __forceinline__ void store_dkdv_rows(const float (&ak)[D / 2], const float (&av)[D / 2], int64_t key0,
                                                int64_t key_end, int64_t kv_at, int64_t kv_stride, float scale, T* dk, T* dv) {
  const int tq = threadIdx.x % 4;
#pragma unroll
  for (int r = 0; r < 2; ++r) {
    const int64_t key = key0 + 8 * r;
    if (key >= key_end) continue;
    const int64_t at = kv_at + key * kv_stride + 2 * tq;
#pragma unroll
    for (int j = 0; j < D / 8; ++j) {
      *reinterpret_cast<uint32_t*>(dk + at + j * 8) = pack<T>(scale * ak[4 * j + 2 * r], scale * ak[4 * j + 2 * r + 1]);
      *reinterpret_cast<uint32_t*>(dv + at + j * 8) = pack<T>(av[4 * j + 2 * r], av[4 * j + 2 * r + 1]);
    }
  }
}

// Counts a launch of any wgmma attention kernel (attention_wgmma_calls).
void count_launch();

}  // namespace megaswift::kernels::cuda::wg
