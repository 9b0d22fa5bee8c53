// Causal GQA flash attention on tensor cores (attention_tc.hpp), forward and backward, bf16/f16 storage.
//
// Building blocks: mma.sync.m16n8k16 (bf16 or f16 operands, fp32 accumulators) fed by ldmatrix from shared memory;
// tiles of rows (tokens) x head_dim are copied global -> shared with cp.async in 16-byte chunks (zero-filled past
// the end of a sequence), rows padded to head_dim + 8 elements so that the 8 row addresses of an ldmatrix fall in
// distinct banks. Every warp owns 16 rows of the block's tile (an mma's M), so row statistics live in the 4
// threads of an mma quad and reduce with two shuffles. Softmax is in the log2 domain: p = exp2(s * scale * log2e -
// m'), the scale folded into one fma; lse is written in natural units (m * scale + ln l), as the SIMT kernels.
//
// Streaming: the tiles a block loops over (K/V in the forward and dq kernels, Q/dO/lse/delta in the dk/dv kernel)
// go through kStages = 3 shared-memory stages. Step n waits for its copies (cp.async.wait_group 1: all but the
// newest group), passes ONE __syncthreads, then issues the copies of step n + 2 into the stage step n - 1 used
// (every warp has left it: it passed the barrier) and does its math. With two stages a step needs a second barrier
// before the refill and the copies run only one step ahead; the third stage costs shared memory that is free at
// these kernels' occupancy (registers bound them: forward and dq 1 block of 8 warps per SM at head_dim 128, dk/dv
// 2 blocks of 4 warps). Each stage is one cp.async commit group, empty past the last step, so the wait count is
// the same on every step.
//
// Grids: (sequences x heads, tiles), the tile rank in blockIdx.y, so that blocks, which start roughly in linear-id
// order, run every sequence's and head's heaviest tile first and the light ones last (longest job first: causal
// tiles differ up to the sequence length / tile size in work). With the tiles in x and the heads in y, as before,
// the dk/dv grid of a GQA model (2 kv heads) started the second head's heaviest tiles only after the first head's
// blocks had all started, and ended on them: a list-scheduling model of B 4, S 4096, 2 kv heads on 132 SMs x 2
// blocks gives a makespan of 100 tile units against 64 now (ideal 63); forward and dq gain ~8% by the same model.
//
// Forward: one block per (sequence, 128-query tile, q head), 8 warps x 16 queries. Q fragments stay in registers;
// keys and values stream in tiles of 64 (the next-but-one tile's cp.async runs during this tile's math). Per key
// tile: S = Q K^T (fp32), causal mask only on tiles that cross the diagonal or the end of the keys, online softmax
// (running max m, running sum l, O rescaled by exp2(m_old - m_new)), P rounded to the storage type and multiplied
// by V straight from the S accumulators (their layout is the A operand's). out = O / l, lse = m + ln l. Query
// tiles are visited heaviest (latest) first.
//
// Backward (P recomputed from lse, no atomics, so every run gives the same bits), three kernels in a row
// (attention_tc_backward_part runs one, for the benchmark): delta = rowsum(dout * out) into the caller's scratch,
// one 16-byte chunk per thread; dq by one kernel over (sequence, 128-query tile, q head), 8 warps x 16 queries,
// looping over the key tiles the queries see: S = Q K^T, dP = dO V^T, dS = P * (dP - delta), dq += dS K; dk, dv
// by another over (sequence, 64-key tile, kv head), 4 warps x 16 keys, looping over the q heads of the kv head's
// group in head order and over the query tiles that see the keys (32 queries per step at head_dim 128, 64 at 64):
// S^T = K Q^T, dP^T = V dO^T, dv += P^T dO, dk += dS^T Q. Splitting dq from dk/dv costs two matrix products
// (S and dP are computed in both) but needs no fp32 dq workspace and no atomics. The dq kernel keeps its Q and dO
// fragments in registers (kDqHold); the dk/dv kernel keeps its K and V fragments in registers beside its fp32
// accumulators (dk and dv: 2 x 16 x D per warp) by working through a step's queries 16 at a time (S^T and dP^T
// of 16 x 16 each): every ldmatrix then feeds two mma (re-reading K and V per k-step, as before, fed 1.6), and
// shared memory's bandwidth is what bounds these kernels. The dk/dv kernel's lse
// and delta rows come by 4-byte cp.async with the step's Q and dO (a plain load there would stall the loading
// warp for a global round trip every step, and the block's barrier makes every warp wait for it), and the steps
// are walked with counters rather than a 64-bit division per step.
#include <kernels/cuda/attention_tc.hpp>
#include <kernels/cuda/attention_common.cuh>
#include <kernels/cuda/attention_tc_ptx.cuh>
#include <kernels/cuda/attention_wgmma.hpp>
#include <kernels/cuda/common.cuh>

#include <atomic>
#include <cerrno>
#include <cmath>
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

constexpr int kBM = 128;          // queries per forward / dq block
constexpr int kBN = 64;           // keys per tile (forward, dq) and per dk/dv block
constexpr int kQWarps = kBM / 16;  // 8
constexpr int kKvWarps = kBN / 16; // 4

// Shared-memory row stride in elements: head_dim + 8 (16 bytes) puts consecutive rows 16 bytes apart modulo 128,
// so ldmatrix's 8 row reads and cp.async's 16-byte writes hit distinct banks.
template <int D>
constexpr int kSD = D + 8;

// Shared-memory stages of the streamed tiles (K/V in the forward and dq kernels, Q/dO/lse/delta in dk/dv): with
// three, the copy of tile n + 2 goes into the stage tile n - 1 used, which every warp has left once it passed the
// one __syncthreads at the top of step n, so a step needs one barrier instead of two, and copies run two steps
// ahead of the math.
constexpr int kStages = 3;

// Queries per step (per barrier) of the dk/dv kernel: at head_dim 128, 32 keeps its shared memory (86 KB) small
// enough for the two blocks per SM its registers allow; at 64, 64 queries fit three blocks (74 KB each).
template <int D>
constexpr int kvq() { return D > 64 ? 32 : 64; }

// Rows [first, first + rows) of one head of q/k/v-like tensor -> shared (row stride kSD<D>), by all threads of
// the block asynchronously; rows from `valid` on are zero (past the sequence: finite, and masked or unused).
template <int D, class T>
__device__ __forceinline__ void load_tile(T* dst, const T* __restrict__ src, int64_t base, int64_t stride, int64_t first,
                                          int valid, int rows) {
  constexpr int C = D / 8;  // 16-byte chunks per row
  for (int idx = threadIdx.x; idx < rows * C; idx += blockDim.x) {
    const int r = idx / C, c = idx - r * C;
    const bool ok = r < valid;
    // A zero-filled chunk reads nothing; its address is still kept inside the tensor.
    cp_async16(dst + r * kSD<D> + c * 8, ok ? src + base + (first + r) * stride + c * 8 : src, ok);
  }
}

// ---- forward ----

template <int D>
constexpr size_t forward_smem() { return sizeof(uint16_t) * size_t(kBM + 2 * kStages * kBN) * kSD<D>; }

template <class T, int D>
__global__ void __launch_bounds__(kQWarps * 32) tc_forward_kernel(AttentionGeometry g, const T* __restrict__ q,
                                                                  const T* __restrict__ k, const T* __restrict__ v,
                                                                  T* __restrict__ out, float* __restrict__ lse,
                                                                  int64_t tiles) {
  constexpr int SD = kSD<D>;
  extern __shared__ __align__(16) unsigned char smem_raw[];
  T* sQ = reinterpret_cast<T*>(smem_raw);  // kBM x SD
  T* sK = sQ + kBM * SD;                   // kStages x kBN x SD
  T* sV = sK + kStages * kBN * SD;         // kStages x kBN x SD
  const int warp = threadIdx.x / 32, lane = threadIdx.x % 32;
  const BlockWork bw = block_work(g.q_heads);
  const int64_t s = bw.s;
  const int h = bw.head, kvh = h / (g.q_heads / g.kv_heads);
  const SeqView sv = seq_view(g, s);
  const int64_t off = sv.kv_len - sv.q_len;  // query i sees keys [0, i + off + 1)
  const float sl2 = g.scale * kLog2e;
  const int64_t q_at = sv.q_base + int64_t(h) * D, kv_at = sv.kv_base + int64_t(kvh) * D;
  // Latest tiles (most keys) first; the grid-stride loop covers every tile of a sequence longer than the bound.
  for (int64_t tile = tiles - 1 - int64_t(blockIdx.y); tile * kBM < sv.q_len; tile += tiles) {
    const int64_t i0 = tile * kBM;
    const int nq = static_cast<int>(min64(kBM, sv.q_len - i0));
    const int64_t k_end = max64(0, min64(i0 + nq + off, sv.kv_len));  // keys the tile's last query sees
    const int n_kt = static_cast<int>((k_end + kBN - 1) / kBN);
    const int64_t row0 = i0 + warp * 16;  // the warp's first query
    __syncthreads();  // the previous tile is done with shared memory
    // Key tile `t` into stage t % kStages, one commit group per call (an empty one past the last tile, so that
    // wait_group<1> below always means "all but the newest group").
    auto load_kv = [&](int t, int stage) {
      if (t < n_kt) {
        const int64_t k1 = int64_t(t) * kBN;
        const int nk = static_cast<int>(min64(kBN, sv.kv_len - k1));
        load_tile<D>(sK + stage * kBN * SD, k, kv_at, sv.kv_stride, k1, nk, kBN);
        load_tile<D>(sV + stage * kBN * SD, v, kv_at, sv.kv_stride, k1, nk, kBN);
      }
      cp_async_commit();
    };
    load_tile<D>(sQ, q, q_at, sv.q_stride, i0, nq, kBM);
    load_kv(0, 0);  // Q and key tile 0: group 0
    load_kv(1, 1);  // key tile 1: group 1

    uint32_t qf[D / 16][4];
    float o[D / 8][4];
    float m[2] = {-INFINITY, -INFINITY}, l[2] = {0.0f, 0.0f};
#pragma unroll
    for (int j = 0; j < D / 8; ++j) o[j][0] = o[j][1] = o[j][2] = o[j][3] = 0.0f;

    for (int kt = 0, st = 0; kt < n_kt; ++kt, st = st + 1 == kStages ? 0 : st + 1) {
      const int64_t k0 = int64_t(kt) * kBN;
      cp_async_wait<1>();  // groups 0 .. kt are complete (the newest, tile kt + 1's, may still be in flight)
      __syncthreads();     // every thread's copies are visible, and every warp is done with tile kt - 1's stage
      load_kv(kt + 2, st == 0 ? kStages - 1 : st - 1);  // tile kt + 2 into that stage
      if (kt == 0) {
#pragma unroll
        for (int kk = 0; kk < D / 16; ++kk) ldsm_x4(qf[kk], sQ + (warp * 16 + lane % 16) * SD + kk * 16 + (lane / 16) * 8);
      }
      // Keys the warp's last query sees: a warp entirely before this tile skips it.
      if (k0 < min64(row0 + 16 + off, sv.kv_len)) {
        const T* tK = sK + st * kBN * SD;
        const T* tV = sV + st * kBN * SD;
        float sc[kBN / 8][4];
#pragma unroll
        for (int j = 0; j < kBN / 8; ++j) sc[j][0] = sc[j][1] = sc[j][2] = sc[j][3] = 0.0f;
#pragma unroll
        for (int kk = 0; kk < D / 16; ++kk)
#pragma unroll
          for (int nb = 0; nb < kBN / 16; ++nb) {
            uint32_t b[4];
            ldsm_x4(b, tK + (nb * 16 + lane % 8 + (lane / 16) * 8) * SD + kk * 16 + ((lane / 8) % 2) * 8);
            mma<T>(sc[2 * nb], qf[kk], b[0], b[1]);
            mma<T>(sc[2 * nb + 1], qf[kk], b[2], b[3]);
          }
        mask_scores<kBN / 2>(&sc[0][0], row0, k0, off, sv.kv_len);
        float alpha[2];
        online_softmax<kBN / 2>(&sc[0][0], m, l, alpha, sl2);
#pragma unroll
        for (int r = 0; r < 2; ++r)
#pragma unroll
          for (int j = 0; j < D / 8; ++j) {
            o[j][2 * r] *= alpha[r];
            o[j][2 * r + 1] *= alpha[r];
          }
        // O += P V, P as A fragments straight from the score registers, V^T fragments by ldmatrix.trans.
#pragma unroll
        for (int kk = 0; kk < kBN / 16; ++kk) {
          uint32_t a[4];
          acc_to_a<T>(a, sc[2 * kk], sc[2 * kk + 1]);
#pragma unroll
          for (int nb = 0; nb < D / 16; ++nb) {
            uint32_t b[4];
            ldsm_x4_trans(b, tV + (kk * 16 + lane % 8 + ((lane / 8) % 2) * 8) * SD + nb * 16 + (lane / 16) * 8);
            mma<T>(o[2 * nb], a, b[0], b[1]);
            mma<T>(o[2 * nb + 1], a, b[2], b[3]);
          }
        }
      }
    }
    cp_async_wait<0>();  // no copy of this tile may still be in flight when the next one reuses the buffers

    store_forward_rows<T, D>(&o[0][0], m, l, sl2, out, q_at, sv.q_stride, sv.q_len, row0, lse,
                             [&](int64_t i) { return sv.lse_base + i * sv.lse_stride + h; });
  }
}

// ---- backward ----

// delta[t * Hq + h] = sum_d dout * out (out and dout are dense (tokens, Hq, D) and 16-byte aligned): one 16-byte
// chunk (8 elements) of both per thread, a row's D / 8 chunks in adjacent lanes of one warp (8 or 16: a warp holds
// whole rows), added by shuffles in a fixed order (the same bits every run).
template <class T, int D>
__global__ void tc_delta_kernel(const T* __restrict__ out, const T* __restrict__ dout, float* __restrict__ delta,
                                int64_t items) {
  constexpr int C = D / 8;
  const int lane = threadIdx.x % 32;
  const int64_t chunks = items * C, step = int64_t(gridDim.x) * blockDim.x;
  // The loop is uniform per warp (every lane shuffles); lanes past the end add zeros and write nothing.
  for (int64_t base = int64_t(blockIdx.x) * blockDim.x + threadIdx.x - lane; base < chunks; base += step) {
    const int64_t c = base + lane;
    float acc = 0.0f;
    if (c < chunks) {
      const uint4 a = *reinterpret_cast<const uint4*>(out + c * 8);
      const uint4 b = *reinterpret_cast<const uint4*>(dout + c * 8);
      T x[8], y[8];
      memcpy(x, &a, 16);
      memcpy(y, &b, 16);
#pragma unroll
      for (int e = 0; e < 8; ++e) acc = fmaf(load(x, e), load(y, e), acc);
    }
#pragma unroll
    for (int o = C / 2; o > 0; o >>= 1) acc += __shfl_xor_sync(0xffffffffu, acc, o);
    if (c < chunks && lane % C == 0) delta[c / C] = acc;
  }
}

// Whether the dq kernel keeps its warp's Q and dO A fragments in registers across key tiles (D / 2 registers)
// instead of re-reading them from shared memory per key tile (2 x D / 16 of a warp's 14 x D / 16 ldmatrix per tile:
// 16 of 112 at head_dim 128, 8 of 56 at 64). The kernel runs one block of 8 warps per SM either way (shared memory and
// registers), and ptxas fits it without spills (250 registers at 128, 181 at 64; 220 and 162 without). A knob for
// the benchmark: false restores the re-reads.
template <int D>
constexpr bool kDqHold = true;

// Blocks per SM the dq kernel is compiled for: at head_dim 64 two (registers capped at 128, a few spilled; shared
// memory 2 x 92 KB), at 128 one (its Q/dO fragments and accumulators take ~250 registers).
template <int D>
constexpr int kDqBlocksPerSm = D > 64 ? 1 : 2;

template <int D>
constexpr size_t dq_smem() { return sizeof(uint16_t) * size_t(2 * kBM + 2 * kStages * kBN) * kSD<D>; }

// dq of one (sequence, 128-query tile, q head) over the key tiles its queries see.
template <class T, int D>
__global__ void __launch_bounds__(kQWarps * 32, kDqBlocksPerSm<D>) tc_dq_kernel(AttentionGeometry g, const T* __restrict__ q,
                                                             const T* __restrict__ k, const T* __restrict__ v,
                                                             const float* __restrict__ lse, const T* __restrict__ dout,
                                                             const float* __restrict__ delta, T* __restrict__ dq,
                                                             int64_t tiles) {
  constexpr int SD = kSD<D>;
  extern __shared__ __align__(16) unsigned char smem_raw[];
  T* sQ = reinterpret_cast<T*>(smem_raw);  // kBM x SD
  T* sO = sQ + kBM * SD;                   // dO, kBM x SD
  T* sK = sO + kBM * SD;                   // kStages x kBN x SD
  T* sV = sK + kStages * kBN * SD;         // kStages x kBN x SD
  const int warp = threadIdx.x / 32, lane = threadIdx.x % 32, gr = lane / 4, tq = lane % 4;
  const BlockWork bw = block_work(g.q_heads);
  const int64_t s = bw.s;
  const int h = bw.head, kvh = h / (g.q_heads / g.kv_heads);
  const SeqView sv = seq_view(g, s);
  const int64_t off = sv.kv_len - sv.q_len;
  const float sl2 = g.scale * kLog2e;
  const int64_t q_at = sv.q_base + int64_t(h) * D, kv_at = sv.kv_base + int64_t(kvh) * D;
  for (int64_t tile = tiles - 1 - int64_t(blockIdx.y); tile * kBM < sv.q_len; tile += tiles) {
    const int64_t i0 = tile * kBM;
    const int nq = static_cast<int>(min64(kBM, sv.q_len - i0));
    const int64_t k_end = max64(0, min64(i0 + nq + off, sv.kv_len));
    const int n_kt = static_cast<int>((k_end + kBN - 1) / kBN);
    const int64_t row0 = i0 + warp * 16;
    __syncthreads();
    // Key tile `t` into stage t % kStages, one commit group per call (an empty one past the last tile, so that
    // wait_group<1> below always means "all but the newest group").
    auto load_kv = [&](int t, int stage) {
      if (t < n_kt) {
        const int64_t k1 = int64_t(t) * kBN;
        const int nk = static_cast<int>(min64(kBN, sv.kv_len - k1));
        load_tile<D>(sK + stage * kBN * SD, k, kv_at, sv.kv_stride, k1, nk, kBN);
        load_tile<D>(sV + stage * kBN * SD, v, kv_at, sv.kv_stride, k1, nk, kBN);
      }
      cp_async_commit();
    };
    load_tile<D>(sQ, q, q_at, sv.q_stride, i0, nq, kBM);
    load_tile<D>(sO, dout, q_at, sv.q_stride, i0, nq, kBM);
    load_kv(0, 0);  // Q, dO and key tile 0: group 0
    load_kv(1, 1);  // key tile 1: group 1
    // The rows' lse (log2 units) and delta; rows past the sequence get 0 (their Q and dO are 0, so finite).
    float lse2[2], dl[2];
#pragma unroll
    for (int r = 0; r < 2; ++r) {
      const int64_t i = row0 + gr + 8 * r;
      const int64_t at = sv.lse_base + i * sv.lse_stride + h;
      lse2[r] = i < sv.q_len ? lse[at] * kLog2e : 0.0f;
      dl[r] = i < sv.q_len ? delta[at] : 0.0f;
    }
    float acc[D / 8][4];
#pragma unroll
    for (int j = 0; j < D / 8; ++j) acc[j][0] = acc[j][1] = acc[j][2] = acc[j][3] = 0.0f;
    uint32_t qf[kDqHold<D> ? D / 16 : 1][4], of[kDqHold<D> ? D / 16 : 1][4];  // Q, dO fragments (kDqHold)

    for (int kt = 0, st = 0; kt < n_kt; ++kt, st = st + 1 == kStages ? 0 : st + 1) {
      const int64_t k0 = int64_t(kt) * kBN;
      cp_async_wait<1>();  // groups 0 .. kt are complete (the newest, tile kt + 1's, may still be in flight)
      __syncthreads();     // every thread's copies are visible, and every warp is done with tile kt - 1's stage
      load_kv(kt + 2, st == 0 ? kStages - 1 : st - 1);  // tile kt + 2 into that stage
      if constexpr (kDqHold<D>) {
        if (kt == 0) {  // Q and dO arrived with tile 0
#pragma unroll
          for (int kk = 0; kk < D / 16; ++kk) {
            ldsm_x4(qf[kk], sQ + (warp * 16 + lane % 16) * SD + kk * 16 + (lane / 16) * 8);
            ldsm_x4(of[kk], sO + (warp * 16 + lane % 16) * SD + kk * 16 + (lane / 16) * 8);
          }
        }
      }
      if (k0 < min64(row0 + 16 + off, sv.kv_len)) {
        const T* tK = sK + st * kBN * SD;
        const T* tV = sV + st * kBN * SD;
        float sc[kBN / 8][4], dp[kBN / 8][4];
#pragma unroll
        for (int j = 0; j < kBN / 8; ++j)
#pragma unroll
          for (int e = 0; e < 4; ++e) sc[j][e] = dp[j][e] = 0.0f;
#pragma unroll
        for (int kk = 0; kk < D / 16; ++kk) {
          uint32_t qa[4], oa[4];
          if constexpr (kDqHold<D>) {
#pragma unroll
            for (int e = 0; e < 4; ++e) qa[e] = qf[kk][e], oa[e] = of[kk][e];
          } else {
            ldsm_x4(qa, sQ + (warp * 16 + lane % 16) * SD + kk * 16 + (lane / 16) * 8);
            ldsm_x4(oa, sO + (warp * 16 + lane % 16) * SD + kk * 16 + (lane / 16) * 8);
          }
#pragma unroll
          for (int nb = 0; nb < kBN / 16; ++nb) {
            const int at = (nb * 16 + lane % 8 + (lane / 16) * 8) * SD + kk * 16 + ((lane / 8) % 2) * 8;
            uint32_t b[4];
            ldsm_x4(b, tK + at);
            mma<T>(sc[2 * nb], qa, b[0], b[1]);
            mma<T>(sc[2 * nb + 1], qa, b[2], b[3]);
            ldsm_x4(b, tV + at);
            mma<T>(dp[2 * nb], oa, b[0], b[1]);
            mma<T>(dp[2 * nb + 1], oa, b[2], b[3]);
          }
        }
        const bool full = k0 + kBN <= row0 + off + 1 && k0 + kBN <= sv.kv_len;
#pragma unroll
        for (int j = 0; j < kBN / 8; ++j)
#pragma unroll
          for (int e = 0; e < 4; ++e) {
            const int r = e >> 1;
            const int64_t i = row0 + gr + 8 * r, key = k0 + j * 8 + 2 * tq + (e & 1);
            // Masked pairs are 0 by selection, not by exp2 (lse may be -inf for a row that sees nothing).
            const bool ok = full || key < min64(i + off + 1, sv.kv_len);
            const float p = ok ? exp2_ftz(fmaf(sc[j][e], sl2, -lse2[r])) : 0.0f;
            sc[j][e] = p * (dp[j][e] - dl[r]);  // dS
          }
        // dq += dS K: dS as A fragments from registers, K (keys x channels) as B by ldmatrix.trans.
#pragma unroll
        for (int kk = 0; kk < kBN / 16; ++kk) {
          uint32_t a[4];
          acc_to_a<T>(a, sc[2 * kk], sc[2 * kk + 1]);
#pragma unroll
          for (int nb = 0; nb < D / 16; ++nb) {
            uint32_t b[4];
            ldsm_x4_trans(b, tK + (kk * 16 + lane % 8 + ((lane / 8) % 2) * 8) * SD + nb * 16 + (lane / 16) * 8);
            mma<T>(acc[2 * nb], a, b[0], b[1]);
            mma<T>(acc[2 * nb + 1], a, b[2], b[3]);
          }
        }
      }
    }
    cp_async_wait<0>();  // no copy of this tile may still be in flight when the next one reuses the buffers

#pragma unroll
    for (int r = 0; r < 2; ++r) {
      const int64_t i = row0 + gr + 8 * r;
      if (i >= sv.q_len) continue;
      T* dst = dq + q_at + i * sv.q_stride + 2 * tq;
#pragma unroll
      for (int j = 0; j < D / 8; ++j)
        *reinterpret_cast<uint32_t*>(dst + j * 8) = pack<T>(g.scale * acc[j][2 * r], g.scale * acc[j][2 * r + 1]);
    }
  }
}

template <int D>
constexpr size_t dkdv_smem() {
  return sizeof(uint16_t) * size_t(2 * kBN + 2 * kStages * kvq<D>()) * kSD<D> + sizeof(float) * 2 * kStages * kvq<D>();
}

// Blocks per SM the dk/dv kernel is compiled for: at head_dim 64 three (registers capped at 168, shared memory
// 3 x 74 KB), at 128 two (the accumulators, K and V take ~220 registers).
template <int D>
constexpr int kDkdvBlocksPerSm = D > 64 ? 1 : 3;

// dk, dv of one (sequence, 64-key tile, kv head): over the group's q heads in head order, and over the steps of
// BQ queries that see the tile's keys. Warp w owns keys c0 + 16 w .. + 15.
template <class T, int D>
__global__ void __launch_bounds__(kKvWarps * 32, kDkdvBlocksPerSm<D>) tc_dkdv_kernel(AttentionGeometry g, const T* __restrict__ q,
                                                                const T* __restrict__ k, const T* __restrict__ v,
                                                                const float* __restrict__ lse, const T* __restrict__ dout,
                                                                const float* __restrict__ delta, T* __restrict__ dk,
                                                                T* __restrict__ dv, int64_t tiles) {
  constexpr int SD = kSD<D>;
  constexpr int BQ = kvq<D>();
  extern __shared__ __align__(16) unsigned char smem_raw[];
  T* sK = reinterpret_cast<T*>(smem_raw);  // kBN x SD
  T* sV = sK + kBN * SD;                   // kBN x SD
  T* sQ = sV + kBN * SD;                   // kStages x BQ x SD
  T* sO = sQ + kStages * BQ * SD;          // dO, kStages x BQ x SD
  float* sL = reinterpret_cast<float*>(sO + kStages * BQ * SD);  // lse (natural units), kStages x BQ
  float* sD = sL + kStages * BQ;                                 // delta, kStages x BQ
  const int warp = threadIdx.x / 32, lane = threadIdx.x % 32, gr = lane / 4, tq = lane % 4;
  const BlockWork bw = block_work(g.kv_heads);
  const int64_t s = bw.s;
  const int kvh = bw.head, group = g.q_heads / g.kv_heads;
  const SeqView sv = seq_view(g, s);
  const int64_t off = sv.kv_len - sv.q_len;
  const float sl2 = g.scale * kLog2e;
  const int64_t kv_at = sv.kv_base + int64_t(kvh) * D;
  for (int64_t tile = blockIdx.y; tile * kBN < sv.kv_len; tile += tiles) {  // the first key tiles are the heaviest
    const int64_t c0 = tile * kBN;
    const int nk = static_cast<int>(min64(kBN, sv.kv_len - c0));
    const int64_t j0 = c0 + warp * 16;  // the warp's first key
    // Queries that see a key of the tile: from the one at the tile's first key's position to the end.
    const int64_t i_lo = max64(0, c0 - off), i_hi = sv.q_len;
    const int64_t per_head = i_lo < i_hi ? (i_hi - i_lo + BQ - 1) / BQ : 0;
    const int64_t n_steps = per_head * group;
    // Step n: q head kvh * group + n / per_head, queries from i_lo + (n % per_head) * BQ. The loads run two steps
    // ahead of the math; both walk the steps with counters (no 64-bit division per step). lse and delta travel by
    // cp.async too, so that no warp stalls on a global load before its math (rows past the sequence get 0).
    // Steps are loaded in order n = 0, 1, 2, ...: (ld_h, ld_t) is the next one's head and query tile.
    int64_t ld_t = 0;
    int ld_h = kvh * group;
    auto load_step = [&](int64_t n, int ld_st) {
      if (n < n_steps) {
        const int64_t i0 = i_lo + ld_t * BQ;
        const int nq = static_cast<int>(min64(BQ, i_hi - i0));
        const int64_t q_at = sv.q_base + int64_t(ld_h) * D;
        load_tile<D>(sQ + ld_st * BQ * SD, q, q_at, sv.q_stride, i0, nq, BQ);
        load_tile<D>(sO + ld_st * BQ * SD, dout, q_at, sv.q_stride, i0, nq, BQ);
        for (int r = threadIdx.x; r < BQ; r += blockDim.x) {
          const bool ok = r < nq;
          const int64_t at = ok ? sv.lse_base + (i0 + r) * sv.lse_stride + ld_h : 0;
          cp_async4(sL + ld_st * BQ + r, lse + at, ok);
          cp_async4(sD + ld_st * BQ + r, delta + at, ok);
        }
        if (++ld_t == per_head) {
          ld_t = 0;
          ++ld_h;
        }
      }
      cp_async_commit();  // one group per call, empty past the last step: wait_group<1> is "all but the newest"
    };
    __syncthreads();  // the previous tile is done with shared memory
    load_tile<D>(sK, k, kv_at, sv.kv_stride, c0, nk, kBN);
    load_tile<D>(sV, v, kv_at, sv.kv_stride, c0, nk, kBN);
    load_step(0, 0);  // K, V and step 0: group 0
    load_step(1, 1);  // step 1: group 1

    float ak[D / 8][4], av[D / 8][4];
#pragma unroll
    for (int j = 0; j < D / 8; ++j)
#pragma unroll
      for (int e = 0; e < 4; ++e) ak[j][e] = av[j][e] = 0.0f;
    uint32_t kf[D / 16][4], vf[D / 16][4];  // the warp's 16 keys of K and V as A fragments, read once per tile

    int64_t ct = 0;  // step n's query tile within its head
    int st = 0;      // step n's stage
    for (int64_t n = 0; n < n_steps; ++n, st = st + 1 == kStages ? 0 : st + 1) {
      cp_async_wait<1>();  // groups 0 .. n are complete (the newest, step n + 1's, may still be in flight)
      __syncthreads();     // every thread's copies are visible, and every warp is done with step n - 1's stage
      load_step(n + 2, st == 0 ? kStages - 1 : st - 1);  // step n + 2 into that stage
      if (n == 0) {  // K and V arrived with step 0
#pragma unroll
        for (int kk = 0; kk < D / 16; ++kk) {
          ldsm_x4(kf[kk], sK + (warp * 16 + lane % 16) * SD + kk * 16 + (lane / 16) * 8);
          ldsm_x4(vf[kk], sV + (warp * 16 + lane % 16) * SD + kk * 16 + (lane / 16) * 8);
        }
      }
      const int64_t i0 = i_lo + ct * BQ;
      if (++ct == per_head) ct = 0;
      const T* tQ = sQ + st * BQ * SD;
      const T* tO = sO + st * BQ * SD;
      const float* tL = sL + st * BQ;
      const float* tD = sD + st * BQ;
      // The step's queries in groups of 16: S^T and dP^T of one group are 16 x 16 (8 registers each), so K and V
      // stay in registers beside the dk/dv accumulators, and every ldmatrix feeds two mma.
#pragma unroll
      for (int qg = 0; qg < BQ / 16; ++qg) {
        const int64_t g0 = i0 + qg * 16;
        // A warp whose first key comes after the group's last query's position (or past the keys) sees nothing.
        if (j0 >= sv.kv_len || j0 > g0 + 15 + off || g0 >= sv.q_len) continue;
        float sc[2][4], dp[2][4];
#pragma unroll
        for (int j = 0; j < 2; ++j)
#pragma unroll
          for (int e = 0; e < 4; ++e) sc[j][e] = dp[j][e] = 0.0f;
#pragma unroll
        for (int kk = 0; kk < D / 16; ++kk) {
          const int at = (qg * 16 + lane % 8 + (lane / 16) * 8) * SD + kk * 16 + ((lane / 8) % 2) * 8;
          uint32_t b[4];
          ldsm_x4(b, tQ + at);
          mma<T>(sc[0], kf[kk], b[0], b[1]);  // S^T = K Q^T
          mma<T>(sc[1], kf[kk], b[2], b[3]);
          ldsm_x4(b, tO + at);
          mma<T>(dp[0], vf[kk], b[0], b[1]);  // dP^T = V dO^T
          mma<T>(dp[1], vf[kk], b[2], b[3]);
        }
        const bool full = j0 + 15 <= g0 + off && g0 + 16 <= sv.q_len && j0 + 16 <= sv.kv_len;
#pragma unroll
        for (int j = 0; j < 2; ++j)
#pragma unroll
          for (int e = 0; e < 4; ++e) {
            const int qi = qg * 16 + j * 8 + 2 * tq + (e & 1);
            const int64_t i = i0 + qi, key = j0 + gr + (e >= 2 ? 8 : 0);
            const bool ok = full || (i < sv.q_len && key < sv.kv_len && key <= i + off);
            const float p = ok ? exp2_ftz(fmaf(sc[j][e], sl2, -(tL[qi] * kLog2e))) : 0.0f;
            sc[j][e] = p;                        // P^T
            dp[j][e] = p * (dp[j][e] - tD[qi]);  // dS^T
          }
        // dv += P^T dO, dk += dS^T Q: the A fragments from registers, dO and Q (queries x channels) by .trans.
        uint32_t pa[4], da[4];
        acc_to_a<T>(pa, sc[0], sc[1]);
        acc_to_a<T>(da, dp[0], dp[1]);
#pragma unroll
        for (int nb = 0; nb < D / 16; ++nb) {
          const int at = (qg * 16 + lane % 8 + ((lane / 8) % 2) * 8) * SD + nb * 16 + (lane / 16) * 8;
          uint32_t b[4];
          ldsm_x4_trans(b, tO + at);
          mma<T>(av[2 * nb], pa, b[0], b[1]);
          mma<T>(av[2 * nb + 1], pa, b[2], b[3]);
          ldsm_x4_trans(b, tQ + at);
          mma<T>(ak[2 * nb], da, b[0], b[1]);
          mma<T>(ak[2 * nb + 1], da, b[2], b[3]);
        }
      }
    }
    cp_async_wait<0>();  // no copy of this tile may still be in flight when the next one reuses the buffers

#pragma unroll
    for (int r = 0; r < 2; ++r) {
      const int64_t key = j0 + gr + 8 * r;
      if (key >= c0 + nk) continue;
      const int64_t at = kv_at + key * sv.kv_stride + 2 * tq;
#pragma unroll
      for (int j = 0; j < D / 8; ++j) {
        *reinterpret_cast<uint32_t*>(dk + at + j * 8) = pack<T>(g.scale * ak[j][2 * r], g.scale * ak[j][2 * r + 1]);
        *reinterpret_cast<uint32_t*>(dv + at + j * 8) = pack<T>(av[j][2 * r], av[j][2 * r + 1]);
      }
    }
  }
}

// ---- launching ----

std::atomic<int> g_choice{-1};  // -1: not read from the environment yet
std::atomic<int64_t> g_forward_calls{0}, g_backward_calls{0};
// Which kernels `automatic` takes on wgmma when MEGASWIFT_ATTENTION_KERNEL=wgmma=<list> named them (bit 0 the
// forward, 1 dq, 2 dk/dv); -1: the measured table below.
std::atomic<int> g_auto_wgmma{-1};
constexpr int kForwardBit = 1, kDqBit = 2, kDkdvBit = 4;

// "fwd,dq,dkdv" (any of them, comma-separated) -> the bits; a KernelError naming anything else.
int parse_wgmma_list(const char* list) {
  int mask = 0;
  std::string item;
  for (const char* p = list;; ++p) {
    if (*p == ',' || *p == '\0') {
      if (item == "fwd") mask |= kForwardBit;
      else if (item == "dq") mask |= kDqBit;
      else if (item == "dkdv") mask |= kDkdvBit;
      else
        throw KernelError("MEGASWIFT_ATTENTION_KERNEL=wgmma=" + std::string(list) + ": \"" + item +
                          "\" is not fwd, dq or dkdv (the kernels to run on wgmma, comma-separated)");
      item.clear();
      if (*p == '\0') break;
    } else {
      item += *p;
    }
  }
  return mask;
}

// The kernels `automatic` runs on wgmma, by the attention benchmark on the H200 (docs/performance.md, 2026-12-03,
// msw_bench_attention_cuda 10 mma|wgmma): dk/dv 1.37 ms on wgmma against 2.54 on mma.sync at B4 S4096 Hq12 Hkv2
// D128 (1.79 against 3.19 at B8 S4096 Hq14 Hkv2 D64), and 1.15 (1.73 at D64) with two warpgroups a block; the
// warp-specialized forward (attention_wgmma_fwd_ws.cu) takes 0.367 ms against mma.sync's 0.911 at D128 and 0.655
// against 1.057 at D64 (THD 2 x 4096 D128, on cp.async: 0.362 against 0.459); dq on wgmma ran as fast as on
// mma.sync, and dq from materialized dS (attention_wgmma.hpp, taken wherever dk/dv runs on wgmma and the
// geometry has it) beats both (0.36 ms).
constexpr bool kAutoWgmmaForward = true, kAutoWgmmaDq = false, kAutoWgmmaDkdv = true;

// The dS budget in bytes; -1: not read from the environment yet (or set back to it).
std::atomic<int64_t> g_ds_budget{-1};
std::atomic<int64_t> g_ds_calls{0};
constexpr int64_t kDefaultDsBudgetMib = 4096;

// Whether a kernel runs on wgmma: always under the wgmma choice, under automatic as measured (or as
// MEGASWIFT_ATTENTION_KERNEL=wgmma=<list> says), never otherwise, and only on a device that has it.
bool on_wgmma(int bit, bool measured) {
  const AttentionKernels c = attention_kernels();
  const int listed = g_auto_wgmma.load();
  const bool automatic_takes_it = listed < 0 ? measured : (listed & bit) != 0;
  const bool wanted = c == AttentionKernels::wgmma || (c == AttentionKernels::automatic && automatic_takes_it);
  return wanted && attention_wgmma_device();
}

}  // namespace

AttentionKernels attention_kernels() {
  int c = g_choice.load();
  if (c < 0) {
    const char* env = std::getenv("MEGASWIFT_ATTENTION_KERNEL");
    if (!env || !*env || std::strcmp(env, "auto") == 0 || std::strcmp(env, "tc") == 0) {
      c = static_cast<int>(AttentionKernels::automatic);
    } else if (std::strcmp(env, "simt") == 0) {
      c = static_cast<int>(AttentionKernels::simt);
    } else if (std::strcmp(env, "mma") == 0) {
      c = static_cast<int>(AttentionKernels::mma_sync);
    } else if (std::strcmp(env, "wgmma") == 0) {
      c = static_cast<int>(AttentionKernels::wgmma);
    } else if (std::strncmp(env, "wgmma=", 6) == 0) {
      g_auto_wgmma.store(parse_wgmma_list(env + 6));
      c = static_cast<int>(AttentionKernels::automatic);
    } else {
      throw KernelError(std::string("MEGASWIFT_ATTENTION_KERNEL=") + env +
                        ": expected simt, mma, wgmma, wgmma=<fwd,dq,dkdv>, tc or auto");
    }
    int expected = -1;
    g_choice.compare_exchange_strong(expected, c);  // a set_attention_kernels in between wins
    c = g_choice.load();
  }
  return static_cast<AttentionKernels>(c);
}

void set_attention_kernels(AttentionKernels choice) { g_choice.store(static_cast<int>(choice)); }

int64_t attention_ds_budget() {
  int64_t b = g_ds_budget.load();
  if (b < 0) {
    const char* env = std::getenv("MEGASWIFT_ATTENTION_DS_MIB");
    int64_t mib = kDefaultDsBudgetMib;
    if (env && *env) {
      char* end = nullptr;
      errno = 0;
      const long long v = std::strtoll(env, &end, 10);
      if (errno != 0 || *end != '\0' || v < 0 || v > (int64_t{1} << 40))
        throw KernelError(std::string("MEGASWIFT_ATTENTION_DS_MIB=") + env +
                          ": expected a whole number of MiB (0 turns materialized dS off)");
      mib = v;
    }
    b = mib << 20;
    int64_t expected = -1;
    g_ds_budget.compare_exchange_strong(expected, b);  // a set_attention_ds_budget in between wins
    b = g_ds_budget.load();
  }
  return b;
}

void set_attention_ds_budget(int64_t bytes) { g_ds_budget.store(bytes < 0 ? -1 : bytes); }

int64_t attention_tc_ds_bytes(const AttentionGeometry& g, Dtype dtype) {
  if (attention_kernels() == AttentionKernels::simt || (dtype != Dtype::bf16 && dtype != Dtype::f16)) return 0;
  if (g.head_dim != 64 && g.head_dim != 128) return 0;
  if (!on_wgmma(kDkdvBit, kAutoWgmmaDkdv)) return 0;
  const int64_t bytes = attention_wgmma_ds_bytes(g);
  return bytes > 0 && bytes <= attention_ds_budget() ? bytes : 0;
}

int64_t attention_ds_backward_calls() { return g_ds_calls.load(); }

int64_t attention_tc_forward_calls() { return g_forward_calls.load(); }
int64_t attention_tc_backward_calls() { return g_backward_calls.load(); }

bool attention_tc_eligible(const AttentionGeometry& g, Dtype dtype, Dtype kv_dtype,
                           std::initializer_list<const void*> tensors) {
  if (attention_kernels() == AttentionKernels::simt) return false;
  if ((dtype != Dtype::bf16 && dtype != Dtype::f16) || kv_dtype != dtype) return false;
  if (g.kv != AttentionKv::batched && g.kv != AttentionKv::packed) return false;
  if (g.head_dim != 64 && g.head_dim != 128) return false;
  if (g.window_left != 0 || g.softcap != 0.0f) return false;
  // The kernels scale the running maximum instead of every score: that needs a positive scale.
  if (!(g.scale > 0.0f) || !std::isfinite(g.scale)) return false;
  if (g.q_heads <= 0 || g.kv_heads <= 0 || g.q_heads % g.kv_heads != 0) return false;
  // 16-byte chunks: rows are multiples of 8 elements apart (head_dim is), so aligned bases suffice.
  for (const void* p : tensors)
    if (reinterpret_cast<uintptr_t>(p) % 16 != 0) return false;
  return true;
}

void attention_tc_forward(const AttentionGeometry& g, const void* q, const void* k, const void* v, Dtype dtype,
                          void* out, float* lse, Stream stream) {
  g_forward_calls.fetch_add(1);
  const int64_t tiles = tiles_for(q_bound(g), kBM);
  if (g.n_seqs <= 0 || tiles <= 0) return;
  if (on_wgmma(kForwardBit, kAutoWgmmaForward)) {
    attention_wgmma_forward(g, q, k, v, dtype, out, lse, stream);
    return;
  }
  const dim3 grid = grid_for(g.n_seqs, tiles, g.q_heads, "attention_forward (tensor cores)");
  dispatch_tc(dtype, g.head_dim, "attention_forward (tensor cores)", [&](auto t, auto dc) {
    using T = decltype(t);
    constexpr int D = decltype(dc)::value;
    auto kernel = tc_forward_kernel<T, D>;
    allow_smem(kernel, forward_smem<D>(), "attention_forward (tensor cores)");
    kernel<<<grid, kQWarps * 32, forward_smem<D>(), stream_of(stream)>>>(
        g, static_cast<const T*>(q), static_cast<const T*>(k), static_cast<const T*>(v), static_cast<T*>(out), lse, int64_t(grid.y));
  });
  check_launch("attention_forward (tensor cores)");
}

void attention_tc_backward_part(AttentionTcBackwardPart part, const AttentionGeometry& g, const void* q,
                                const void* k, const void* v, const void* out, const float* lse, const void* dout,
                                void* dq, void* dk, void* dv, Dtype dtype, float* scratch, Stream stream) {
  if (g.n_seqs <= 0) return;
  const int64_t q_tiles = tiles_for(q_bound(g), kBM), kv_tiles = tiles_for(kv_bound(g), kBN);
  const int64_t items = attention_q_tokens(g) * g.q_heads;
  // delta is the same kernel either way.
  // dS tiles (where taken) sit after delta; dk/dv writes them and dq reads them.
  void* ds = attention_tc_ds_bytes(g, dtype) > 0 ? scratch + attention_delta_floats(g) : nullptr;
  if (ds && part == AttentionTcBackwardPart::dq) {
    attention_wgmma_dq_from_ds(g, k, ds, dq, dtype, stream);
    return;
  }
  const bool wgmma = part == AttentionTcBackwardPart::dq     ? on_wgmma(kDqBit, kAutoWgmmaDq)
                     : part == AttentionTcBackwardPart::dkdv ? on_wgmma(kDkdvBit, kAutoWgmmaDkdv)
                                                             : false;
  if (wgmma) {
    if (part == AttentionTcBackwardPart::dq)
      attention_wgmma_dq(g, q, k, v, lse, dout, scratch, dq, dtype, stream);
    else
      attention_wgmma_dkdv(g, q, k, v, lse, dout, scratch, dk, dv, ds, dtype, stream);
    return;
  }
  dispatch_tc(dtype, g.head_dim, "attention_backward (tensor cores)", [&](auto t, auto dc) {
    using T = decltype(t);
    constexpr int D = decltype(dc)::value;
    if (part == AttentionTcBackwardPart::delta && items > 0) {
      tc_delta_kernel<T, D><<<blocks_for(items * (D / 8), 256), 256, 0, stream_of(stream)>>>(
          static_cast<const T*>(out), static_cast<const T*>(dout), scratch, items);
    }
    if (part == AttentionTcBackwardPart::dq && q_tiles > 0) {
      auto kernel = tc_dq_kernel<T, D>;
      allow_smem(kernel, dq_smem<D>(), "attention_backward (tensor cores, dq)");
      const dim3 grid = grid_for(g.n_seqs, q_tiles, g.q_heads, "attention_backward (tensor cores)");
      kernel<<<grid, kQWarps * 32, dq_smem<D>(), stream_of(stream)>>>(
          g, static_cast<const T*>(q), static_cast<const T*>(k), static_cast<const T*>(v), lse, static_cast<const T*>(dout),
          scratch, static_cast<T*>(dq), int64_t(grid.y));
    }
    if (part == AttentionTcBackwardPart::dkdv && kv_tiles > 0) {
      auto kernel = tc_dkdv_kernel<T, D>;
      allow_smem(kernel, dkdv_smem<D>(), "attention_backward (tensor cores, dk, dv)");
      const dim3 grid = grid_for(g.n_seqs, kv_tiles, g.kv_heads, "attention_backward (tensor cores)");
      kernel<<<grid, kKvWarps * 32, dkdv_smem<D>(), stream_of(stream)>>>(
          g, static_cast<const T*>(q), static_cast<const T*>(k), static_cast<const T*>(v), lse, static_cast<const T*>(dout),
          scratch, static_cast<T*>(dk), static_cast<T*>(dv), int64_t(grid.y));
    }
  });
  check_launch("attention_backward (tensor cores)");
}

void attention_tc_backward(const AttentionGeometry& g, const void* q, const void* k, const void* v, const void* out,
                           const float* lse, const void* dout, void* dq, void* dk, void* dv, Dtype dtype,
                           float* scratch, Stream stream) {
  g_backward_calls.fetch_add(1);
  // With dS tiles, dq reads what dk/dv writes.
  const bool ds = attention_tc_ds_bytes(g, dtype) > 0;
  if (ds) g_ds_calls.fetch_add(1);
  const AttentionTcBackwardPart second = ds ? AttentionTcBackwardPart::dkdv : AttentionTcBackwardPart::dq;
  const AttentionTcBackwardPart third = ds ? AttentionTcBackwardPart::dq : AttentionTcBackwardPart::dkdv;
  for (AttentionTcBackwardPart part : {AttentionTcBackwardPart::delta, second, third})
    attention_tc_backward_part(part, g, q, k, v, out, lse, dout, dq, dk, dv, dtype, scratch, stream);
}

}  // namespace megaswift::kernels::cuda
