// Tiled causal attention, forward and backward (see attention.hpp). 256 threads per block as a 16 x 16 grid:
// thread (ty, tx) owns rows ty + 16 * i (i < 4) of a 64-row tile and columns (keys, or channels) tx + 16 * j.
// Tiles live in shared memory as fp32; all arithmetic is fp32. A row's 16 owners are 16 consecutive lanes of a
// warp, so row reductions are shuffles within a half warp.
#include <kernels/cuda/attention.hpp>
#include <kernels/cuda/attention_common.cuh>
#include <kernels/cuda/attention_tc.hpp>
#include <kernels/cuda/common.cuh>

#include <cmath>
#include <cstdint>
#include <string>

namespace megaswift::kernels::cuda {
namespace {

using attn::allow_smem;
using attn::key_hi;
using attn::kv_bound;
using attn::key_lo;
using attn::load_rows;
using attn::padded;
using attn::q_bound;
using attn::score;
using attn::seq_view;
using attn::SeqView;

constexpr int kThreads = 256;
constexpr int kBM = 64;  // queries per tile
constexpr int kBN = 64;  // keys per tile
constexpr int kRows = 4; // rows (of a 64-row tile) per thread
constexpr int kBS = kBN + 1;  // row stride of the P / dS tiles

__device__ __forceinline__ float half_warp_max(float v) {
  for (int o = 8; o > 0; o >>= 1) v = fmaxf(v, __shfl_xor_sync(0xffffffffu, v, o, 16));
  return v;
}
__device__ __forceinline__ float half_warp_sum(float v) {
  for (int o = 8; o > 0; o >>= 1) v += __shfl_xor_sync(0xffffffffu, v, o, 16);
  return v;
}

// ---- forward ----

size_t forward_smem(int D) { return sizeof(float) * (size_t(kBM) * padded(D) + size_t(kBN) * padded(D) + size_t(kBM) * kBS); }

template <class T, class TK, int DMAX>
__global__ void __launch_bounds__(kThreads) forward_kernel(AttentionGeometry g, const T* __restrict__ q,
                                                           const TK* __restrict__ k, const TK* __restrict__ v,
                                                           T* __restrict__ out, float* __restrict__ lse, int64_t tiles) {
  extern __shared__ float smem[];
  constexpr int DJ = DMAX / 16;
  const int D = g.head_dim, dp = padded(D);
  float* sQ = smem;
  float* sKV = sQ + kBM * dp;  // K, then V of the same key tile
  float* sP = sKV + kBN * dp;
  const int64_t s = blockIdx.x / tiles;
  const int h = blockIdx.y, kvh = h / (g.q_heads / g.kv_heads);
  const int tx = threadIdx.x % 16, ty = threadIdx.x / 16;
  const SeqView sv = seq_view(g, s);
  const float inv_cap = g.softcap > 0.0f ? 1.0f / g.softcap : 0.0f;
  for (int64_t tile = blockIdx.x % tiles; tile * kBM < sv.q_len; tile += tiles) {
    const int64_t i0 = tile * kBM;
    const int nq = static_cast<int>(sv.q_len - i0 < kBM ? sv.q_len - i0 : kBM);
    // The keys any row of the tile sees: from the first row's lowest to the last row's highest.
    const int64_t k_lo = key_lo(sv, g.window_left, i0);
    const int64_t k_hi = key_hi(sv, i0 + nq - 1) < sv.kv_len ? key_hi(sv, i0 + nq - 1) : sv.kv_len;
    __syncthreads();  // the previous tile's readers are done with sQ
    load_rows(sQ, dp, q, sv.q_base + int64_t(h) * D, sv.q_stride, i0, nq, kBM, D);
    float m[kRows], l[kRows], o[kRows][DJ];
    int64_t lo[kRows], hi[kRows];
#pragma unroll
    for (int r = 0; r < kRows; ++r) {
      const int64_t i = i0 + ty + 16 * r;
      m[r] = -INFINITY;
      l[r] = 0.0f;
      lo[r] = i < sv.q_len ? key_lo(sv, g.window_left, i) : 0;
      hi[r] = i < sv.q_len ? key_hi(sv, i) : 0;  // rows past the sequence see nothing
#pragma unroll
      for (int j = 0; j < DJ; ++j) o[r][j] = 0.0f;
    }
    for (int64_t k0 = k_lo; k0 < k_hi; k0 += kBN) {
      const int nk = static_cast<int>(k_hi - k0 < kBN ? k_hi - k0 : kBN);
      __syncthreads();  // sQ loaded; the previous key tile's P.V is done with sKV
      load_rows(sKV, dp, k, sv.kv_base + int64_t(kvh) * D, sv.kv_stride, k0, nk, kBN, D);
      __syncthreads();
      float acc[kRows][4] = {};
      for (int d = 0; d < D; ++d) {
        float a[kRows], b[4];
#pragma unroll
        for (int r = 0; r < kRows; ++r) a[r] = sQ[(ty + 16 * r) * dp + d];
#pragma unroll
        for (int c = 0; c < 4; ++c) b[c] = sKV[(tx + 16 * c) * dp + d];
#pragma unroll
        for (int r = 0; r < kRows; ++r)
#pragma unroll
          for (int c = 0; c < 4; ++c) acc[r][c] = fmaf(a[r], b[c], acc[r][c]);
      }
#pragma unroll
      for (int r = 0; r < kRows; ++r) {
        float sc[4];
        float mx = -INFINITY;
#pragma unroll
        for (int c = 0; c < 4; ++c) {
          const int64_t j = k0 + tx + 16 * c;
          float th;
          const float x = score(acc[r][c], g.scale, g.softcap, inv_cap, &th);
          sc[c] = (j >= lo[r] && j < hi[r]) ? x : -INFINITY;
          mx = fmaxf(mx, sc[c]);
        }
        const float m_new = fmaxf(m[r], half_warp_max(mx));
        // Nothing seen yet (m_new = -inf): keep everything at zero rather than computing -inf - -inf.
        const float alpha = m_new == -INFINITY ? 1.0f : expf(m[r] - m_new);
        float sum = 0.0f;
#pragma unroll
        for (int c = 0; c < 4; ++c) {
          const float p = sc[c] == -INFINITY ? 0.0f : expf(sc[c] - m_new);
          sum += p;
          sP[(ty + 16 * r) * kBS + tx + 16 * c] = p;
        }
        l[r] = l[r] * alpha + half_warp_sum(sum);
        m[r] = m_new;
#pragma unroll
        for (int j = 0; j < DJ; ++j) o[r][j] *= alpha;
      }
      __syncthreads();  // every row's scores are done with K
      load_rows(sKV, dp, v, sv.kv_base + int64_t(kvh) * D, sv.kv_stride, k0, nk, kBN, D);
      __syncthreads();
      for (int c = 0; c < nk; ++c) {
        float p[kRows];
#pragma unroll
        for (int r = 0; r < kRows; ++r) p[r] = sP[(ty + 16 * r) * kBS + c];
#pragma unroll
        for (int j = 0; j < DJ; ++j) {
          const int d = tx + 16 * j;
          if (d < D) {
            const float x = sKV[c * dp + d];
#pragma unroll
            for (int r = 0; r < kRows; ++r) o[r][j] = fmaf(p[r], x, o[r][j]);
          }
        }
      }
    }
#pragma unroll
    for (int r = 0; r < kRows; ++r) {
      const int64_t i = i0 + ty + 16 * r;
      if (i >= sv.q_len) continue;
      // l = 0 only for a query that sees no key (more queries than keys, which ops.h forbids): zeros, lse -inf.
      const float inv = l[r] > 0.0f ? 1.0f / l[r] : 0.0f;
      const int64_t at = sv.q_base + i * sv.q_stride + int64_t(h) * D;
#pragma unroll
      for (int j = 0; j < DJ; ++j) {
        const int d = tx + 16 * j;
        if (d < D) store(out, at + d, o[r][j] * inv);
      }
      if (lse && tx == 0) lse[sv.lse_base + i * sv.lse_stride + h] = l[r] > 0.0f ? m[r] + logf(l[r]) : -INFINITY;
    }
  }
}

// ---- backward ----

// delta[t * Hq + h] = sum_d dout * out (in double, as the CPU kernel), one warp per (token, head).
template <class T>
__global__ void delta_kernel(const T* __restrict__ out, const T* __restrict__ dout, float* __restrict__ delta,
                             int64_t items, int D) {
  const int lane = threadIdx.x % 32;
  const int64_t warps = int64_t(gridDim.x) * (blockDim.x / 32);
  for (int64_t it = blockIdx.x * int64_t(blockDim.x / 32) + threadIdx.x / 32; it < items; it += warps) {
    double acc = 0.0;
    for (int d = lane; d < D; d += 32) acc += double(load(out, it * D + d)) * load(dout, it * D + d);
    for (int o = 16; o > 0; o >>= 1) acc += __shfl_xor_sync(0xffffffffu, acc, o);
    if (lane == 0) delta[it] = static_cast<float>(acc);
  }
}

size_t dq_smem(int D) {
  return sizeof(float) * (2 * size_t(kBM) * padded(D) + size_t(kBN) * padded(D) + size_t(kBM) * kBS);
}

// dq of one (sequence, query tile, q head): over the tile's key tiles, dP = dO V^T, then S = Q K^T, P = exp(S -
// lse), dS = P * (dP - delta) (times 1 - tanh^2 under softcap), dq += dS K; dq = scale * the sum.
template <class T, int DMAX>
__global__ void __launch_bounds__(kThreads) dq_kernel(AttentionGeometry g, const T* __restrict__ q,
                                                      const T* __restrict__ k, const T* __restrict__ v,
                                                      const float* __restrict__ lse, const T* __restrict__ dout,
                                                      const float* __restrict__ delta, T* __restrict__ dq, int64_t tiles) {
  extern __shared__ float smem[];
  constexpr int DJ = DMAX / 16;
  const int D = g.head_dim, dp = padded(D);
  float* sQ = smem;
  float* sDO = sQ + kBM * dp;
  float* sKV = sDO + kBM * dp;  // V, then K of the same key tile
  float* sDS = sKV + kBN * dp;
  const int64_t s = blockIdx.x / tiles;
  const int h = blockIdx.y, kvh = h / (g.q_heads / g.kv_heads);
  const int tx = threadIdx.x % 16, ty = threadIdx.x / 16;
  const SeqView sv = seq_view(g, s);
  const float inv_cap = g.softcap > 0.0f ? 1.0f / g.softcap : 0.0f;
  for (int64_t tile = blockIdx.x % tiles; tile * kBM < sv.q_len; tile += tiles) {
    const int64_t i0 = tile * kBM;
    const int nq = static_cast<int>(sv.q_len - i0 < kBM ? sv.q_len - i0 : kBM);
    const int64_t k_lo = key_lo(sv, g.window_left, i0);
    const int64_t k_hi = key_hi(sv, i0 + nq - 1) < sv.kv_len ? key_hi(sv, i0 + nq - 1) : sv.kv_len;
    __syncthreads();
    load_rows(sQ, dp, q, sv.q_base + int64_t(h) * D, sv.q_stride, i0, nq, kBM, D);
    load_rows(sDO, dp, dout, sv.q_base + int64_t(h) * D, sv.q_stride, i0, nq, kBM, D);
    float row_lse[kRows], row_delta[kRows], acc[kRows][DJ];
    int64_t lo[kRows], hi[kRows];
#pragma unroll
    for (int r = 0; r < kRows; ++r) {
      const int64_t i = i0 + ty + 16 * r;
      const bool in = i < sv.q_len;
      row_lse[r] = in ? lse[sv.lse_base + i * sv.lse_stride + h] : 0.0f;
      row_delta[r] = in ? delta[sv.lse_base + i * sv.lse_stride + h] : 0.0f;
      lo[r] = in ? key_lo(sv, g.window_left, i) : 0;
      hi[r] = in ? key_hi(sv, i) : 0;
#pragma unroll
      for (int j = 0; j < DJ; ++j) acc[r][j] = 0.0f;
    }
    for (int64_t k0 = k_lo; k0 < k_hi; k0 += kBN) {
      const int nk = static_cast<int>(k_hi - k0 < kBN ? k_hi - k0 : kBN);
      __syncthreads();  // sQ, sDO loaded; the previous key tile's dS.K is done with sKV
      load_rows(sKV, dp, v, sv.kv_base + int64_t(kvh) * D, sv.kv_stride, k0, nk, kBN, D);
      __syncthreads();
      float dpv[kRows][4] = {};
      for (int d = 0; d < D; ++d) {
        float a[kRows], b[4];
#pragma unroll
        for (int r = 0; r < kRows; ++r) a[r] = sDO[(ty + 16 * r) * dp + d];
#pragma unroll
        for (int c = 0; c < 4; ++c) b[c] = sKV[(tx + 16 * c) * dp + d];
#pragma unroll
        for (int r = 0; r < kRows; ++r)
#pragma unroll
          for (int c = 0; c < 4; ++c) dpv[r][c] = fmaf(a[r], b[c], dpv[r][c]);
      }
      __syncthreads();
      load_rows(sKV, dp, k, sv.kv_base + int64_t(kvh) * D, sv.kv_stride, k0, nk, kBN, D);
      __syncthreads();
      float sc[kRows][4] = {};
      for (int d = 0; d < D; ++d) {
        float a[kRows], b[4];
#pragma unroll
        for (int r = 0; r < kRows; ++r) a[r] = sQ[(ty + 16 * r) * dp + d];
#pragma unroll
        for (int c = 0; c < 4; ++c) b[c] = sKV[(tx + 16 * c) * dp + d];
#pragma unroll
        for (int r = 0; r < kRows; ++r)
#pragma unroll
          for (int c = 0; c < 4; ++c) sc[r][c] = fmaf(a[r], b[c], sc[r][c]);
      }
#pragma unroll
      for (int r = 0; r < kRows; ++r)
#pragma unroll
        for (int c = 0; c < 4; ++c) {
          const int64_t j = k0 + tx + 16 * c;
          float th;
          const float x = score(sc[r][c], g.scale, g.softcap, inv_cap, &th);
          float ds = 0.0f;
          if (j >= lo[r] && j < hi[r]) {
            const float p = expf(x - row_lse[r]);
            ds = p * (dpv[r][c] - row_delta[r]);
            if (g.softcap > 0.0f) ds *= 1.0f - th * th;
          }
          sDS[(ty + 16 * r) * kBS + tx + 16 * c] = ds;
        }
      __syncthreads();
      for (int c = 0; c < nk; ++c) {
        float a[kRows];
#pragma unroll
        for (int r = 0; r < kRows; ++r) a[r] = sDS[(ty + 16 * r) * kBS + c];
#pragma unroll
        for (int j = 0; j < DJ; ++j) {
          const int d = tx + 16 * j;
          if (d < D) {
            const float x = sKV[c * dp + d];
#pragma unroll
            for (int r = 0; r < kRows; ++r) acc[r][j] = fmaf(a[r], x, acc[r][j]);
          }
        }
      }
    }
#pragma unroll
    for (int r = 0; r < kRows; ++r) {
      const int64_t i = i0 + ty + 16 * r;
      if (i >= sv.q_len) continue;
      const int64_t at = sv.q_base + i * sv.q_stride + int64_t(h) * D;
#pragma unroll
      for (int j = 0; j < DJ; ++j) {
        const int d = tx + 16 * j;
        if (d < D) store(dq, at + d, g.scale * acc[r][j]);
      }
    }
  }
}

// Queries per step of the dk/dv kernel: 32 at head_dim 256 so that its six tiles fit in shared memory.
template <int DMAX>
constexpr int dkdv_queries() { return DMAX > 128 ? 32 : 64; }

template <int DMAX>
size_t dkdv_smem(int D) {
  constexpr int BQ = dkdv_queries<DMAX>();
  return sizeof(float) * (2 * size_t(kBN) * padded(D) + 2 * size_t(BQ) * padded(D) + 2 * size_t(kBN) * (BQ + 1) + 2 * BQ);
}

// dk, dv of one (sequence, key tile, kv head): over the q heads of the group in head order, and over the query
// tiles that see the keys: S^T, dP^T as in dq_kernel, dv += P^T dO, dk += dS^T Q; dk = scale * the sum. Thread
// (ty, tx) owns keys ty + 16 * i and, in the score tiles, queries tx + 16 * j.
template <class T, int DMAX>
__global__ void __launch_bounds__(kThreads) dkdv_kernel(AttentionGeometry g, const T* __restrict__ q,
                                                        const T* __restrict__ k, const T* __restrict__ v,
                                                        const float* __restrict__ lse, const T* __restrict__ dout,
                                                        const float* __restrict__ delta, T* __restrict__ dk,
                                                        T* __restrict__ dv, int64_t tiles) {
  extern __shared__ float smem[];
  constexpr int DJ = DMAX / 16;
  constexpr int BQ = dkdv_queries<DMAX>();
  constexpr int QJ = BQ / 16;
  constexpr int PS = BQ + 1;  // row stride of sP, sDS (key-major)
  const int D = g.head_dim, dp = padded(D);
  float* sK = smem;
  float* sV = sK + kBN * dp;
  float* sQ = sV + kBN * dp;
  float* sDO = sQ + BQ * dp;
  float* sP = sDO + BQ * dp;
  float* sDS = sP + kBN * PS;
  float* sL = sDS + kBN * PS;
  float* sDelta = sL + BQ;
  const int64_t s = blockIdx.x / tiles;
  const int kvh = blockIdx.y, group = g.q_heads / g.kv_heads;
  const int tx = threadIdx.x % 16, ty = threadIdx.x / 16;
  const SeqView sv = seq_view(g, s);
  const float inv_cap = g.softcap > 0.0f ? 1.0f / g.softcap : 0.0f;
  const int64_t off = sv.kv_len - sv.q_len;
  for (int64_t tile = blockIdx.x % tiles; tile * kBN < sv.kv_len; tile += tiles) {
    const int64_t c0 = tile * kBN;
    const int nk = static_cast<int>(sv.kv_len - c0 < kBN ? sv.kv_len - c0 : kBN);
    __syncthreads();
    load_rows(sK, dp, k, sv.kv_base + int64_t(kvh) * D, sv.kv_stride, c0, nk, kBN, D);
    load_rows(sV, dp, v, sv.kv_base + int64_t(kvh) * D, sv.kv_stride, c0, nk, kBN, D);
    float ak[kRows][DJ], av[kRows][DJ];
#pragma unroll
    for (int r = 0; r < kRows; ++r)
#pragma unroll
      for (int j = 0; j < DJ; ++j) ak[r][j] = av[r][j] = 0.0f;
    // The queries that see a key of the tile: positions from c0 to the last key plus the window (or the end).
    const int64_t p_hi = g.window_left > 0 ? c0 + nk - 1 + g.window_left : sv.kv_len - 1;
    const int64_t i_lo = c0 - off > 0 ? c0 - off : 0;
    const int64_t i_hi = p_hi - off + 1 < sv.q_len ? p_hi - off + 1 : sv.q_len;
    for (int hh = 0; hh < group; ++hh) {
      const int h = kvh * group + hh;
      for (int64_t i0 = i_lo; i0 < i_hi; i0 += BQ) {
        const int nq = static_cast<int>(i_hi - i0 < BQ ? i_hi - i0 : BQ);
        __syncthreads();  // sK, sV loaded; the previous step is done with sQ, sDO, sP, sDS
        load_rows(sQ, dp, q, sv.q_base + int64_t(h) * D, sv.q_stride, i0, nq, BQ, D);
        load_rows(sDO, dp, dout, sv.q_base + int64_t(h) * D, sv.q_stride, i0, nq, BQ, D);
        for (int r = threadIdx.x; r < BQ; r += blockDim.x) {
          const int64_t at = sv.lse_base + (i0 + r) * sv.lse_stride + h;
          sL[r] = r < nq ? lse[at] : 0.0f;
          sDelta[r] = r < nq ? delta[at] : 0.0f;
        }
        __syncthreads();
        float sc[kRows][QJ] = {}, dpv[kRows][QJ] = {};
        for (int d = 0; d < D; ++d) {
          float kk[kRows], vv[kRows], qq[QJ], oo[QJ];
#pragma unroll
          for (int r = 0; r < kRows; ++r) {
            kk[r] = sK[(ty + 16 * r) * dp + d];
            vv[r] = sV[(ty + 16 * r) * dp + d];
          }
#pragma unroll
          for (int c = 0; c < QJ; ++c) {
            qq[c] = sQ[(tx + 16 * c) * dp + d];
            oo[c] = sDO[(tx + 16 * c) * dp + d];
          }
#pragma unroll
          for (int r = 0; r < kRows; ++r)
#pragma unroll
            for (int c = 0; c < QJ; ++c) {
              sc[r][c] = fmaf(kk[r], qq[c], sc[r][c]);
              dpv[r][c] = fmaf(vv[r], oo[c], dpv[r][c]);
            }
        }
#pragma unroll
        for (int r = 0; r < kRows; ++r)
#pragma unroll
          for (int c = 0; c < QJ; ++c) {
            const int qi = tx + 16 * c;
            const int64_t i = i0 + qi, j = c0 + ty + 16 * r;
            float p = 0.0f, ds = 0.0f;
            if (qi < nq && j < c0 + nk && j >= key_lo(sv, g.window_left, i) && j < key_hi(sv, i)) {
              float th;
              const float x = score(sc[r][c], g.scale, g.softcap, inv_cap, &th);
              p = expf(x - sL[qi]);
              ds = p * (dpv[r][c] - sDelta[qi]);
              if (g.softcap > 0.0f) ds *= 1.0f - th * th;
            }
            sP[(ty + 16 * r) * PS + qi] = p;
            sDS[(ty + 16 * r) * PS + qi] = ds;
          }
        __syncthreads();
        for (int qi = 0; qi < nq; ++qi) {
          float pr[kRows], dsr[kRows];
#pragma unroll
          for (int r = 0; r < kRows; ++r) {
            pr[r] = sP[(ty + 16 * r) * PS + qi];
            dsr[r] = sDS[(ty + 16 * r) * PS + qi];
          }
#pragma unroll
          for (int j = 0; j < DJ; ++j) {
            const int d = tx + 16 * j;
            if (d < D) {
              const float o = sDO[qi * dp + d], x = sQ[qi * dp + d];
#pragma unroll
              for (int r = 0; r < kRows; ++r) {
                av[r][j] = fmaf(pr[r], o, av[r][j]);
                ak[r][j] = fmaf(dsr[r], x, ak[r][j]);
              }
            }
          }
        }
      }
    }
#pragma unroll
    for (int r = 0; r < kRows; ++r) {
      const int c = ty + 16 * r;
      if (c >= nk) continue;
      const int64_t at = sv.kv_base + (c0 + c) * sv.kv_stride + int64_t(kvh) * D;
#pragma unroll
      for (int j = 0; j < DJ; ++j) {
        const int d = tx + 16 * j;
        if (d < D) {
          store(dk, at + d, g.scale * ak[r][j]);
          store(dv, at + d, av[r][j]);
        }
      }
    }
  }
}

template <class T>
__global__ void zero_uncovered_kernel(T* x, int64_t rows, int64_t row_elems, const int32_t* cu, int64_t n_seqs) {
  const int64_t first = attn::clamp64(cu[0], 0, rows), end = attn::clamp64(cu[n_seqs], first, rows);
  const int64_t n = rows * row_elems;
  for (int64_t e = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; e < n; e += int64_t(gridDim.x) * blockDim.x) {
    const int64_t r = e / row_elems;
    if (r < first || r >= end) store(x, e, 0.0f);
  }
}

// ---- launching ----

// Calls f(std::integral_constant<int, DMAX>{}) with the smallest of 64, 128, 256 that holds head_dim.
template <class F>
void dispatch_head_dim(int32_t head_dim, F&& f) {
  if (head_dim <= 0 || head_dim > kAttentionMaxHeadDim)
    throw KernelError("attention: head_dim " + std::to_string(head_dim) + " is outside [1, " +
                      std::to_string(kAttentionMaxHeadDim) + "]");
  if (head_dim <= 64) return f(std::integral_constant<int, 64>{});
  if (head_dim <= 128) return f(std::integral_constant<int, 128>{});
  f(std::integral_constant<int, 256>{});
}

int64_t tiles_for(int64_t len, int64_t tile) { return (len + tile - 1) / tile; }

// The grid's x: sequences times tiles; each block loops over its sequence's tiles with stride `tiles`.
dim3 grid_for(int64_t n_seqs, int64_t tiles, int32_t heads, const char* kernel) {
  const int64_t x = n_seqs * tiles;
  if (x > 0x7fffffffLL || heads > 65535)
    throw KernelError(std::string(kernel) + ": " + std::to_string(x) + " x " + std::to_string(heads) +
                      " blocks are more than a grid holds");
  return dim3(static_cast<unsigned>(x), static_cast<unsigned>(heads));
}

void check_geometry(const AttentionGeometry& g, const char* op) {
  if (g.q_heads <= 0 || g.kv_heads <= 0 || g.q_heads % g.kv_heads != 0)
    throw KernelError(std::string(op) + ": " + std::to_string(g.q_heads) + " query heads over " +
                      std::to_string(g.kv_heads) + " kv heads");
}

}  // namespace

void attention_forward(const AttentionGeometry& g, const void* q, const void* k, const void* v, Dtype dtype,
                       Dtype kv_dtype, void* out, float* lse, Stream stream) {
  check_geometry(g, "attention_forward");
  // bf16/f16 without window or softcap: the tensor-core kernels (attention_tc.cu); the rest runs here.
  if (attention_tc_eligible(g, dtype, kv_dtype, {q, k, v, out}))
    return attention_tc_forward(g, q, k, v, dtype, out, lse, stream);
  const int64_t tiles = tiles_for(q_bound(g), kBM);
  if (g.n_seqs <= 0 || tiles <= 0) return;
  const dim3 grid = grid_for(g.n_seqs, tiles, g.q_heads, "attention_forward");
  const size_t smem = forward_smem(g.head_dim);
  dispatch_head_dim(g.head_dim, [&](auto dmax) {
    constexpr int DMAX = decltype(dmax)::value;
    dispatch_dtype(dtype, [&](auto t) {
      using T = decltype(t);
      auto launch = [&](auto tk) {
        using TK = decltype(tk);
        auto kernel = forward_kernel<T, TK, DMAX>;
        allow_smem(kernel, smem, "attention_forward");
        kernel<<<grid, kThreads, smem, stream_of(stream)>>>(g, static_cast<const T*>(q), static_cast<const TK*>(k),
                                                            static_cast<const TK*>(v), static_cast<T*>(out), lse, tiles);
      };
      // K and V in q's dtype, or fp32 (a KV cache kept in fp32 under a bf16/f16 model).
      if (kv_dtype == dtype) {
        launch(T{});
      } else if (kv_dtype == Dtype::f32) {
        launch(float{});
      } else {
        throw KernelError("attention_forward: k and v must have q's dtype or be f32");
      }
    });
  });
  check_launch("attention_forward");
}

int64_t attention_backward_scratch(const AttentionGeometry& g, Dtype dtype) {
  return attention_delta_floats(g) + attention_tc_ds_bytes(g, dtype) / int64_t(sizeof(float));
}

void attention_backward(const AttentionGeometry& g, const void* q, const void* k, const void* v, const void* out,
                        const float* lse, const void* dout, void* dq, void* dk, void* dv, Dtype dtype, float* scratch,
                        Stream stream) {
  check_geometry(g, "attention_backward");
  if (g.kv == AttentionKv::cache) throw KernelError("attention_backward: no backward over a KV cache");
  if (attention_tc_eligible(g, dtype, dtype, {q, k, v, out, dout, dq, dk, dv}))
    return attention_tc_backward(g, q, k, v, out, lse, dout, dq, dk, dv, dtype, scratch, stream);
  if (g.n_seqs <= 0) return;
  const int64_t q_tiles = tiles_for(q_bound(g), kBM), kv_tiles = tiles_for(kv_bound(g), kBN);
  const int64_t items = attention_q_tokens(g) * g.q_heads;
  dispatch_head_dim(g.head_dim, [&](auto dmax) {
    constexpr int DMAX = decltype(dmax)::value;
    dispatch_dtype(dtype, [&](auto t) {
      using T = decltype(t);
      if (items > 0) {
        delta_kernel<T><<<blocks_for(items, kThreads / 32), kThreads, 0, stream_of(stream)>>>(
            static_cast<const T*>(out), static_cast<const T*>(dout), scratch, items, g.head_dim);
      }
      if (q_tiles > 0) {
        const size_t smem = dq_smem(g.head_dim);
        auto kernel = dq_kernel<T, DMAX>;
        allow_smem(kernel, smem, "attention_backward (dq)");
        kernel<<<grid_for(g.n_seqs, q_tiles, g.q_heads, "attention_backward"), kThreads, smem, stream_of(stream)>>>(
            g, static_cast<const T*>(q), static_cast<const T*>(k), static_cast<const T*>(v), lse,
            static_cast<const T*>(dout), scratch, static_cast<T*>(dq), q_tiles);
      }
      if (kv_tiles > 0) {
        const size_t smem = dkdv_smem<DMAX>(g.head_dim);
        auto kernel = dkdv_kernel<T, DMAX>;
        allow_smem(kernel, smem, "attention_backward (dk, dv)");
        kernel<<<grid_for(g.n_seqs, kv_tiles, g.kv_heads, "attention_backward"), kThreads, smem, stream_of(stream)>>>(
            g, static_cast<const T*>(q), static_cast<const T*>(k), static_cast<const T*>(v), lse,
            static_cast<const T*>(dout), scratch, static_cast<T*>(dk), static_cast<T*>(dv), kv_tiles);
      }
    });
  });
  check_launch("attention_backward");
}

void attention_zero_uncovered(void* x, Dtype dtype, int64_t rows, int64_t row_elems, const int32_t* cu, int64_t n_seqs,
                              Stream stream) {
  if (rows <= 0 || row_elems <= 0) return;
  dispatch_dtype(dtype, [&](auto t) {
    using T = decltype(t);
    zero_uncovered_kernel<T><<<blocks_for(rows * row_elems, kThreads), kThreads, 0, stream_of(stream)>>>(
        static_cast<T*>(x), rows, row_elems, cu, n_seqs);
  });
  check_launch("attention_zero_uncovered");
}

}  // namespace megaswift::kernels::cuda
