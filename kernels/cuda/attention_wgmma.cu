// Attention on Hopper's warpgroup MMA (attention_wgmma.hpp): the forward, dq and dk/dv kernels of attention_tc.cu
// (the same math: online softmax forward; backward with P recomputed from lse and no atomics, the same bits every
// run), with every matrix product a wgmma.mma_async of one warpgroup (4 warps, 128 threads, M = 64 rows: 64
// queries per forward and dq block, 64 keys per dk/dv block) instead of warp-wide mma.sync fed by ldmatrix.
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
// wgmma). Two blocks per SM (one block's softmax beside the other's products) at head_dim 128, three at 64.
// Running step n - 1's second products beside step n's score products instead (waiting for them before the
// refill) measured no faster at head_dim 128 and slower at 64 (dk/dv 1.78 -> 2.18 ms, B8 S4096 Hq14 Hkv2).
#include <kernels/cuda/attention_wgmma.hpp>
#include <kernels/cuda/attention_common.cuh>
#include <kernels/cuda/attention_tc_ptx.cuh>
#include <kernels/cuda/common.cuh>

#include <atomic>
#include <cstdint>
#include <cstdlib>
#include <cstring>
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

// ---- forward ----

// Key-tile stages of the forward: two, or three when step t's P V product runs beside step t + 1's scores (the
// copies of tile t + 2 must then not overwrite V of tile t, which that product still reads).
template <bool kOverlap>
constexpr int kForwardStages = kOverlap ? 3 : 2;

template <int D, int W, bool kOverlap>
constexpr size_t forward_smem() { return sizeof(uint16_t) * size_t(W + 2 * kForwardStages<kOverlap>) * kTile * D; }

// out and lse of one (sequence, W x 64-query tile, q head), the key tiles streamed: S = Q K^T, the online softmax
// (running max m and sum l per row, O rescaled by exp2(m_old - m_new)), O += P V with P from the score registers.
// Warpgroup w owns the queries 64 w .. 64 w + 63 of the block's; with W = 2 both share every K and V tile the
// block streams, half the copies per query of W = 1 (the first warpgroup also multiplies the last tile, which
// its queries see none of: masked, it adds nothing). kOverlap (FlashAttention-3's intra-warpgroup overlap): step
// t issues its scores and then step t - 1's P V, and works out its softmax while that product runs; O is
// rescaled once it has landed.
template <class T, int D, int W, bool kOverlap>
__global__ void __launch_bounds__(W * kThreads, kBlocksPerSmW<D, W>) wg_forward_kernel(AttentionGeometry g, const T* __restrict__ q,
                                                                                       const T* __restrict__ k, const T* __restrict__ v,
                                                                                       T* __restrict__ out, float* __restrict__ lse,
                                                                                       int64_t tiles) {
  constexpr int S = kForwardStages<kOverlap>;
  extern __shared__ __align__(128) unsigned char smem_raw[];
  T* sQ = reinterpret_cast<T*>(smem_raw);  // W x (kTile x D)
  T* sK = sQ + W * kTile * D;              // S stages
  T* sV = sK + S * kTile * D;              // S stages
  const int wg = threadIdx.x / kThreads, warp = (threadIdx.x / 32) % 4, lane = threadIdx.x % 32, gr = lane / 4, tq = lane % 4;
  const BlockWork bw = block_work(g.q_heads);
  const int h = bw.head, kvh = h / (g.q_heads / g.kv_heads);
  const SeqView sv = seq_view(g, bw.s);
  const int64_t off = sv.kv_len - sv.q_len;  // query i sees keys [0, i + off + 1)
  const float sl2 = g.scale * kLog2e;
  const int64_t q_at = sv.q_base + int64_t(h) * D, kv_at = sv.kv_base + int64_t(kvh) * D;
  for (int64_t tile = tiles - 1 - int64_t(blockIdx.y); tile * W * kRows < sv.q_len; tile += tiles) {
    const int64_t i0 = tile * W * kRows;
    const int nq = static_cast<int>(min64(W * kRows, sv.q_len - i0));
    const int64_t k_end = max64(0, min64(i0 + nq + off, sv.kv_len));  // keys the tile's last query sees
    const int n_kt = static_cast<int>((k_end + kCols - 1) / kCols);
    const int64_t row0 = i0 + wg * kRows + warp * 16;
    const T* tQ = sQ + wg * kTile * D;
    __syncthreads();  // the previous tile is done with shared memory
    load_panels_w<D, W>(sQ, q, q_at, sv.q_stride, i0, nq);
    load_key_tile<D, W * kThreads>(sK, sV, k, v, sv, kv_at, 0, n_kt, 0);

    float o[D / 2], sc[kCols / 2];
    float m[2] = {-INFINITY, -INFINITY}, l[2] = {0.0f, 0.0f};
    uint32_t pa[kCols / 16][4];  // P of the step, rounded to T: the A operand of its P V product
#pragma unroll
    for (int j = 0; j < D / 2; ++j) o[j] = 0.0f;
#pragma unroll
    for (int j = 0; j < kCols / 2; ++j) sc[j] = 0.0f;
    auto add_pv = [&](int stage) {  // O += P V, V of the stage
      const T* tV = sV + stage * kTile * D;
      wg_fence();
#pragma unroll
      for (int kk = 0; kk < kCols / 16; ++kk) Wgmma<T, D>::rs(o, pa[kk], desc_mn<D>(tV, kk));
      wg_commit();
    };

    // Step kt on stage st; with_pv: the previous step's P V is issued after the scores and waited for before O
    // is rescaled (a compile-time flag, so the first step has its own copy: with the choice made at run time the
    // compiler serializes the products).
    auto step = [&](int kt, int st, auto with_pv) {
      const int64_t k0 = int64_t(kt) * kCols;
      cp_async_wait<0>();
      async_proxy_fence();
      __syncthreads();  // tile kt is visible to every thread, and every thread is done with tile kt + 1 - S's stage
      load_key_tile<D, W * kThreads>(sK, sV, k, v, sv, kv_at, kt + 1, n_kt, st + 1 == S ? 0 : st + 1);
      const T* tK = sK + st * kTile * D;
      wg_fence();
#pragma unroll
      for (int kk = 0; kk < D / 16; ++kk) Wgmma<T, kCols>::ss(sc, desc_k<D>(tQ, kk), desc_k<D>(tK, kk), kk);
      wg_commit();
      if constexpr (decltype(with_pv)::value) {
        add_pv(st == 0 ? S - 1 : st - 1);  // the previous step's
        wg_wait<1>();                      // the scores (committed first) are done
      } else {
        wg_wait<0>();
      }
      settled(sc);
      // Mask only where some (query, key) pair of the warp's rows is not allowed: the diagonal or the keys' end.
      if (!(k0 + kCols <= row0 + off + 1 && k0 + kCols <= sv.kv_len)) {
#pragma unroll
        for (int j = 0; j < kCols / 8; ++j)
#pragma unroll
          for (int e = 0; e < 4; ++e) {
            const int64_t i = row0 + gr + (e >= 2 ? 8 : 0), key = k0 + j * 8 + 2 * tq + (e & 1);
            if (key >= min64(i + off + 1, sv.kv_len)) sc[4 * j + e] = -INFINITY;
          }
      }
      float mx[2] = {m[0], m[1]};
#pragma unroll
      for (int j = 0; j < kCols / 8; ++j) {
        mx[0] = fmaxf(mx[0], fmaxf(sc[4 * j], sc[4 * j + 1]));
        mx[1] = fmaxf(mx[1], fmaxf(sc[4 * j + 2], sc[4 * j + 3]));
      }
      float ms[2], alpha[2];
#pragma unroll
      for (int r = 0; r < 2; ++r) {
        mx[r] = quad_max(mx[r]);
        // A row that has seen no key yet (m = -inf) keeps zeros: exp2(-inf - 0) = 0, never -inf - -inf.
        ms[r] = mx[r] == -INFINITY ? 0.0f : mx[r] * sl2;
        alpha[r] = exp2f(m[r] * sl2 - ms[r]);
        m[r] = mx[r];
        l[r] *= alpha[r];
      }
#pragma unroll
      for (int j = 0; j < kCols / 8; ++j)
#pragma unroll
        for (int e = 0; e < 4; ++e) {
          sc[4 * j + e] = exp2f(fmaf(sc[4 * j + e], sl2, -ms[e >> 1]));  // masked: exp2(-inf) = 0
          l[e >> 1] += sc[4 * j + e];  // this thread's share of the row sum; the quad adds up at the end
        }
      if constexpr (decltype(with_pv)::value) {
        wg_wait<0>();  // the previous step's P V has landed in O (and released pa)
        settled(o);
      }
#pragma unroll
      for (int r = 0; r < 2; ++r)
#pragma unroll
        for (int j = 0; j < D / 8; ++j) {
          o[4 * j + 2 * r] *= alpha[r];
          o[4 * j + 2 * r + 1] *= alpha[r];
        }
#pragma unroll
      for (int kk = 0; kk < kCols / 16; ++kk) scores_to_a<T>(pa[kk], sc + 8 * kk);
      if constexpr (!kOverlap) {
        add_pv(st);
        wg_wait<0>();  // before the next barrier: the stage is refilled after it
        settled(o);
      }
    };
    if (n_kt > 0) step(0, 0, std::false_type{});
    for (int kt = 1, st = 1 % S; kt < n_kt; ++kt, st = st + 1 == S ? 0 : st + 1)
      step(kt, st, std::integral_constant<bool, kOverlap>{});
    if (kOverlap && n_kt > 0) {  // the last step's P V
      add_pv((n_kt - 1) % S);
      wg_wait<0>();
      settled(o);
    }
    cp_async_wait<0>();

#pragma unroll
    for (int r = 0; r < 2; ++r) {
      const float lr = quad_sum(l[r]);
      const int64_t i = row0 + gr + 8 * r;
      if (i >= sv.q_len) continue;
      // l = 0 only for a query that sees no key (more queries than keys, which ops.h forbids): zeros, lse -inf.
      const float inv = lr > 0.0f ? 1.0f / lr : 0.0f;
      T* dst = out + q_at + i * sv.q_stride + 2 * tq;
#pragma unroll
      for (int j = 0; j < D / 8; ++j)
        *reinterpret_cast<uint32_t*>(dst + j * 8) = pack<T>(o[4 * j + 2 * r] * inv, o[4 * j + 2 * r + 1] * inv);
      if (lse && tq == 0) lse[sv.lse_base + i * sv.lse_stride + h] = lr > 0.0f ? (m[r] * sl2 + log2f(lr)) * kLn2 : -INFINITY;
    }
  }
}

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
          const float p = ok ? exp2f(fmaf(sc[4 * j + e], sl2, -lse2[r])) : 0.0f;
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

// The dS tiles of a backward (attention_wgmma_ds_bytes): per sequence s and q head h, the tiles of 64 queries x 64
// keys below the diagonal, row by row (query tile i holds key tiles 0 .. i, which are contiguous), each in the
// panel layout of a 64-wide tile (a K-major operand summed over its keys). seq_tiles: query tiles per sequence.
__host__ __device__ __forceinline__ int64_t ds_tile(int64_t s, int h, int64_t i, int64_t j, int heads, int64_t seq_tiles) {
  return (s * heads + h) * (seq_tiles * (seq_tiles + 1) / 2) + i * (i + 1) / 2 + j;
}

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
  const int wg = threadIdx.x / kThreads, warp = (threadIdx.x / 32) % 4, lane = threadIdx.x % 32, gr = lane / 4, tq = lane % 4;
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
      // P^T and dS^T; the pairs are checked only on a step that crosses the diagonal or an end (two copies of the
      // loop: with the check folded in, the compiler kept it on every step, 1.5x the dk/dv kernel's time).
      auto probabilities = [&](auto checked) {
#pragma unroll
        for (int j = 0; j < kCols / 8; ++j) {
          const float2 l2 = *reinterpret_cast<const float2*>(tL + 8 * j + 2 * tq);
          const float2 d2 = *reinterpret_cast<const float2*>(tD + 8 * j + 2 * tq);
#pragma unroll
          for (int e = 0; e < 4; ++e) {
            const int64_t i = i0 + 8 * j + 2 * tq + (e & 1), key = key0 + (e >= 2 ? 8 : 0);
            const bool ok = !decltype(checked)::value || (i < sv.q_len && key < sv.kv_len && key <= i + off);
            const float lq = (e & 1) ? l2.y : l2.x, dq_ = (e & 1) ? d2.y : d2.x;
            const float p = ok ? exp2f(fmaf(sc[4 * j + e], sl2, -lq * kLog2e)) : 0.0f;
            sc[4 * j + e] = p;                          // P^T
            dp[4 * j + e] = p * (dp[4 * j + e] - dq_);  // dS^T
          }
        }
      };
      if (cw + kRows - 1 <= i0 + off && i0 + kCols <= sv.q_len && nkw >= kRows)
        probabilities(std::false_type{});
      else
        probabilities(std::true_type{});
      uint32_t pa[kCols / 16][4], da[kCols / 16][4];
#pragma unroll
      for (int kk = 0; kk < kCols / 16; ++kk) {
        scores_to_a<T>(pa[kk], sc + 8 * kk);
        scores_to_a<T>(da[kk], dp + 8 * kk);
      }
      // dS (queries x keys) from the dS^T fragments: da[kk][m] is the 8 x 8 block of keys 16 warp + 8 (m & 1) and
      // queries 16 kk + 8 (m >> 1); transposed, thread (gr, tq) holds query ... + gr, keys ... + 2 tq and + 1,
      // which sit side by side in the tile's panel layout: a warp stores 128 contiguous bytes per block.
      [[maybe_unused]] uint32_t dst[kDs ? kCols / 16 : 1][4];
      if constexpr (kDs) {
#pragma unroll
        for (int kk = 0; kk < kCols / 16; ++kk)
#pragma unroll
          for (int m = 0; m < 4; ++m) dst[kk][m] = transpose8x8(da[kk][m]);
      }
      wg_fence();
#pragma unroll
      for (int kk = 0; kk < kCols / 16; ++kk) Wgmma<T, D>::rs(av, pa[kk], desc_mn<D>(tO, kk));  // dv += P^T dO
#pragma unroll
      for (int kk = 0; kk < kCols / 16; ++kk) Wgmma<T, D>::rs(ak, da[kk], desc_mn<D>(tQ, kk));  // dk += dS^T Q
      wg_commit();
      if constexpr (kDs) {  // beside the products; a tile above the diagonal (cw > i0) has no dS
        if (cw <= i0) {
          T* tile_ds = ds + ds_tile(bw.s, hq, i0 / kTile, cw / kTile, g.q_heads, seq_tiles) * (kTile * kTile);
#pragma unroll
          for (int kk = 0; kk < kCols / 16; ++kk)
#pragma unroll
            for (int m = 0; m < 4; ++m)
              *reinterpret_cast<uint32_t*>(tile_ds + (2 * kk + (m >> 1)) * 8 * kTile + (2 * warp + (m & 1)) * 64 + gr * 8 +
                                           2 * tq) = dst[kk][m];
        }
      }
      wg_wait<0>();  // before the next barrier: the other stage is refilled after it
    }
    settled(ak);
    settled(av);
    cp_async_wait<0>();
#pragma unroll
    for (int r = 0; r < 2; ++r) {
      const int64_t key = key0 + 8 * r;
      if (key >= c0 + nk) continue;  // (the warpgroup's keys end there too)
      const int64_t at = kv_at + key * sv.kv_stride + 2 * tq;
#pragma unroll
      for (int j = 0; j < D / 8; ++j) {
        *reinterpret_cast<uint32_t*>(dk + at + j * 8) = pack<T>(g.scale * ak[4 * j + 2 * r], g.scale * ak[4 * j + 2 * r + 1]);
        *reinterpret_cast<uint32_t*>(dv + at + j * 8) = pack<T>(av[4 * j + 2 * r], av[4 * j + 2 * r + 1]);
      }
    }
  }
}

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

// ---- launching ----

std::atomic<int64_t> g_calls{0};
// Warpgroups per forward and dk/dv block (attention_wgmma_warpgroups); 0: not read from the environment yet.
std::atomic<int> g_warpgroups{0};
constexpr int kDefaultWarpgroups = 2;
// Whether the forward overlaps P V with the next scores (attention_wgmma_forward_overlap); -1: not read yet.
std::atomic<int> g_overlap{-1};
constexpr bool kDefaultOverlap = true;
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

int attention_wgmma_warpgroups() {
  int w = g_warpgroups.load();
  if (w == 0) {
    const char* env = std::getenv("MEGASWIFT_ATTENTION_WARPGROUPS");
    w = kDefaultWarpgroups;
    if (env && *env) {
      if (std::strcmp(env, "1") == 0) w = 1;
      else if (std::strcmp(env, "2") == 0) w = 2;
      else
        throw KernelError(std::string("MEGASWIFT_ATTENTION_WARPGROUPS=") + env + ": expected 1 or 2");
    }
    int expected = 0;
    g_warpgroups.compare_exchange_strong(expected, w);  // a set_attention_wgmma_warpgroups in between wins
    w = g_warpgroups.load();
  }
  return w;
}

bool attention_wgmma_forward_overlap() {
  int o = g_overlap.load();
  if (o < 0) {
    const char* env = std::getenv("MEGASWIFT_ATTENTION_FORWARD_OVERLAP");
    o = kDefaultOverlap ? 1 : 0;
    if (env && *env) {
      if (std::strcmp(env, "1") == 0) o = 1;
      else if (std::strcmp(env, "0") == 0) o = 0;
      else
        throw KernelError(std::string("MEGASWIFT_ATTENTION_FORWARD_OVERLAP=") + env + ": expected 0 or 1");
    }
    int expected = -1;
    g_overlap.compare_exchange_strong(expected, o);
    o = g_overlap.load();
  }
  return o == 1;
}

void set_attention_wgmma_forward_overlap(int o) {
  if (o < -1 || o > 1) throw KernelError("set_attention_wgmma_forward_overlap: " + std::to_string(o) + " is not -1, 0 or 1");
  g_overlap.store(o);
}

void set_attention_wgmma_warpgroups(int w) {
  if (w != 0 && w != 1 && w != 2) throw KernelError("set_attention_wgmma_warpgroups: " + std::to_string(w) + " is not 0, 1 or 2");
  g_warpgroups.store(w);
}

void attention_wgmma_forward(const AttentionGeometry& g, const void* q, const void* k, const void* v, Dtype dtype,
                             void* out, float* lse, Stream stream) {
  const int w = attention_wgmma_warpgroups();
  const bool overlap = attention_wgmma_forward_overlap();
  const int64_t tiles = tiles_for(q_bound(g), int64_t(w) * kTile);
  if (g.n_seqs <= 0 || tiles <= 0) return;
  g_calls.fetch_add(1);
  const dim3 grid = grid_for(g.n_seqs, tiles, g.q_heads, "attention_forward (wgmma)");
  dispatch_tc(dtype, g.head_dim, "attention_forward (wgmma)", [&](auto t, auto dc) {
    using T = decltype(t);
    constexpr int D = decltype(dc)::value;
    auto launch = [&](auto kernel, auto wc, auto oc) {
      constexpr int W = decltype(wc)::value;
      constexpr bool O = decltype(oc)::value;
      allow_smem(kernel, forward_smem<D, W, O>(), "attention_forward (wgmma)");
      kernel<<<grid, W * kThreads, forward_smem<D, W, O>(), stream_of(stream)>>>(
          g, static_cast<const T*>(q), static_cast<const T*>(k), static_cast<const T*>(v), static_cast<T*>(out), lse,
          int64_t(grid.y));
    };
    using One = std::integral_constant<int, 1>;
    using Two = std::integral_constant<int, 2>;
    if (w == 2 && overlap) launch(wg_forward_kernel<T, D, 2, true>, Two{}, std::true_type{});
    else if (w == 2) launch(wg_forward_kernel<T, D, 2, false>, Two{}, std::false_type{});
    else if (overlap) launch(wg_forward_kernel<T, D, 1, true>, One{}, std::true_type{});
    else launch(wg_forward_kernel<T, D, 1, false>, One{}, std::false_type{});
  });
  check_launch("attention_forward (wgmma)");
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
  g_calls.fetch_add(1);
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
