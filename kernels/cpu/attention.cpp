// Causal GQA self-attention forward and backward on per-head GEMMs (see attention.hpp).
//
// Forward works on blocks of kBlock queries of one (batch, head): S = Q_blk K[0:end]^T covers only
// the keys up to the block's last query (causal), the softmax runs on those rows in fp32 with the
// sum in double, and O_blk = P V[0:end]. Backward redoes the same blocks per (batch, q head) and
// accumulates that head's dK, dV over its query blocks in block order; with GQA each q head writes
// its own partial dK, dV, then the heads of a group are added in head order. Every output element has
// one writer and a fixed order, so the result does not depend on the thread count.
#include <kernels/cpu/attention.hpp>

#include <algorithm>
#include <cmath>
#include <limits>
#include <string>
#include <vector>

#include <kernels/cpu/detail/checks.hpp>
#include <kernels/cpu/detail/parallel.hpp>
#include <kernels/cpu/detail/vmath.hpp>
#include <kernels/cpu/threading.hpp>

namespace megaswift::kernels::cpu {
namespace {

constexpr int64_t kBlock = 64;

struct Strides {
  int64_t q_row, kv_row;  // elements between consecutive tokens of one head
};

// Rows [0, nq) of s hold the scores of queries t0 .. t0+nq-1 against keys [0, nk); turns each row
// into probabilities over its causal prefix (keys <= t) and zeros the rest; returns lse per row.
MSW_SIMD_CLONES void softmax_rows(float* s, int64_t nq, int64_t nk, int64_t t0, float* lse_out) {
  for (int64_t r = 0; r < nq; ++r) {
    float* row = s + r * nk;
    const int64_t valid = t0 + r + 1;
    const float m = detail::max_of(row, valid);
    double sum = 0.0;
#pragma omp simd reduction(+ : sum)
    for (int64_t j = 0; j < valid; ++j) {
      const float e = detail::exp_fast(row[j] - m);
      row[j] = e;
      sum += e;
    }
    const float inv = static_cast<float>(1.0 / sum);
#pragma omp simd
    for (int64_t j = 0; j < valid; ++j) row[j] *= inv;
    for (int64_t j = valid; j < nk; ++j) row[j] = 0.0f;
    lse_out[r] = m + static_cast<float>(std::log(sum));
  }
}

// Probabilities of a block from saved lse (the recompute path): P = exp(S - lse), zero above diagonal.
MSW_SIMD_CLONES void probs_from_lse(float* s, int64_t nq, int64_t nk, int64_t t0, const float* lse) {
  for (int64_t r = 0; r < nq; ++r) {
    float* row = s + r * nk;
    const int64_t valid = t0 + r + 1;
    const float l = lse[r];
#pragma omp simd
    for (int64_t j = 0; j < valid; ++j) row[j] = detail::exp_fast(row[j] - l);
    for (int64_t j = valid; j < nk; ++j) row[j] = 0.0f;
  }
}

// dS = P * (dP - delta) in place of dP for rows [0, nq), delta[r] = <dO[r], O[r]>; zeros past the
// causal prefix.
MSW_SIMD_CLONES void softmax_grad_rows(float* dp, const float* p, const float* o, const float* dout, int64_t row_stride,
                                       int64_t nq, int64_t nk, int64_t d, int64_t t0, float* delta) {
  for (int64_t r = 0; r < nq; ++r) {
    double acc = 0.0;
    const float* o_r = o + r * row_stride;
    const float* do_r = dout + r * row_stride;
#pragma omp simd reduction(+ : acc)
    for (int64_t j = 0; j < d; ++j) acc += static_cast<double>(o_r[j]) * do_r[j];
    delta[r] = static_cast<float>(acc);
  }
  for (int64_t r = 0; r < nq; ++r) {
    float* dp_r = dp + r * nk;
    const float* p_r = p + r * nk;
    const float dr = delta[r];
    const int64_t valid = t0 + r + 1;
#pragma omp simd
    for (int64_t j = 0; j < valid; ++j) dp_r[j] = p_r[j] * (dp_r[j] - dr);
    for (int64_t j = valid; j < nk; ++j) dp_r[j] = 0.0f;
  }
}

}  // namespace

void attention_validate(const AttentionShape& s) {
  constexpr const char* op = "attention";
  detail::check_positive(op, "batch", s.batch);
  detail::check_positive(op, "seq", s.seq);
  detail::check_positive(op, "q_heads", s.q_heads);
  detail::check_positive(op, "kv_heads", s.kv_heads);
  detail::check_positive(op, "head_dim", s.head_dim);
  if (s.q_heads % s.kv_heads != 0) {
    detail::fail(op, "q_heads " + std::to_string(s.q_heads) + " is not a multiple of kv_heads " +
                         std::to_string(s.kv_heads));
  }
}

void attention_forward(const AttentionShape& shape, const float* q, const float* k, const float* v, float scale,
                       float* out, float* lse, float* probs) {
  constexpr const char* op = "attention_forward";
  attention_validate(shape);
  detail::check_ptr(op, "q", q);
  detail::check_ptr(op, "k", k);
  detail::check_ptr(op, "v", v);
  detail::check_ptr(op, "out", out);
  detail::check_ptr(op, "lse", lse);
  const int64_t B = shape.batch, T = shape.seq, Hq = shape.q_heads, Hkv = shape.kv_heads, D = shape.head_dim;
  const int64_t group = Hq / Hkv;
  const int64_t n_blocks = (T + kBlock - 1) / kBlock;
  const int64_t tasks = B * Hq * n_blocks;
  const Strides st{Hq * D, Hkv * D};

  const int threads = detail::threads_for(B * Hq * T * T * D / 2);
#pragma omp parallel num_threads(threads)
  {
    std::vector<float> s_buf(static_cast<size_t>(kBlock * T));
#pragma omp for schedule(dynamic, 1)
    for (int64_t task = 0; task < tasks; ++task) {
      // Largest blocks first (they have the most keys), for a better balance.
      const int64_t blk = n_blocks - 1 - task % n_blocks;
      const int64_t bh = task / n_blocks;
      const int64_t b = bh / Hq, h = bh % Hq, g = h / group;
      const int64_t t0 = blk * kBlock, nq = std::min(kBlock, T - t0), nk = t0 + nq;
      const float* qb = q + ((b * T + t0) * Hq + h) * D;
      const float* kb = k + (b * T * Hkv + g) * D;
      const float* vb = v + (b * T * Hkv + g) * D;
      float* s = s_buf.data();
      detail::gemm_serial(false, true, nq, nk, D, scale, qb, st.q_row, kb, st.kv_row, 0.0f, s, nk);
      softmax_rows(s, nq, nk, t0, lse + (b * Hq + h) * T + t0);
      detail::gemm_serial(false, false, nq, D, nk, 1.0f, s, nk, vb, st.kv_row, 0.0f, out + ((b * T + t0) * Hq + h) * D, st.q_row);
      if (probs != nullptr) {
        float* pb = probs + ((b * Hq + h) * T + t0) * T;
        for (int64_t r = 0; r < nq; ++r) {
          std::copy(s + r * nk, s + (r + 1) * nk, pb + r * T);
          std::fill(pb + r * T + nk, pb + (r + 1) * T, 0.0f);
        }
      }
    }
  }
}

void attention_backward(const AttentionShape& shape, const float* q, const float* k, const float* v,
                        const float* out, const float* lse, const float* probs, const float* dout, float scale,
                        float* dq, float* dk, float* dv) {
  constexpr const char* op = "attention_backward";
  attention_validate(shape);
  detail::check_ptr(op, "q", q);
  detail::check_ptr(op, "k", k);
  detail::check_ptr(op, "v", v);
  detail::check_ptr(op, "out", out);
  detail::check_ptr(op, "lse", lse);
  detail::check_ptr(op, "dout", dout);
  detail::check_ptr(op, "dq", dq);
  detail::check_ptr(op, "dk", dk);
  detail::check_ptr(op, "dv", dv);
  const int64_t B = shape.batch, T = shape.seq, Hq = shape.q_heads, Hkv = shape.kv_heads, D = shape.head_dim;
  const int64_t group = Hq / Hkv;
  const int64_t n_blocks = (T + kBlock - 1) / kBlock;
  const Strides st{Hq * D, Hkv * D};

  // Per-q-head dK, dV: written straight into dk, dv when every kv head has one q head, else into
  // (B, T, Hq, D) partials that the group reduction below adds in head order.
  std::vector<float> dk_part, dv_part;
  float* dk_heads = dk;
  float* dv_heads = dv;
  int64_t kv_row_heads = Hkv;  // heads per token in dk_heads/dv_heads
  if (group > 1) {
    dk_part.assign(static_cast<size_t>(B * T * Hq * D), 0.0f);
    dv_part.assign(static_cast<size_t>(B * T * Hq * D), 0.0f);
    dk_heads = dk_part.data();
    dv_heads = dv_part.data();
    kv_row_heads = Hq;
  } else {
    std::fill(dk, dk + B * T * Hkv * D, 0.0f);
    std::fill(dv, dv + B * T * Hkv * D, 0.0f);
  }
  const int64_t dkv_row = kv_row_heads * D;

  {
      const int threads = detail::threads_for(B * Hq * T * T * D);
#pragma omp parallel num_threads(threads)
    {
      std::vector<float> p_buf(static_cast<size_t>(kBlock * T));
      std::vector<float> dp_buf(static_cast<size_t>(kBlock * T));
      std::vector<float> delta(static_cast<size_t>(kBlock));
#pragma omp for schedule(dynamic, 1)
      for (int64_t bh = 0; bh < B * Hq; ++bh) {
        const int64_t b = bh / Hq, h = bh % Hq, g = h / group;
        const int64_t dst_head = group > 1 ? h : g;
        const float* kb = k + (b * T * Hkv + g) * D;
        const float* vb = v + (b * T * Hkv + g) * D;
        float* dkb = dk_heads + (b * T * kv_row_heads + dst_head) * D;
        float* dvb = dv_heads + (b * T * kv_row_heads + dst_head) * D;
        for (int64_t blk = 0; blk < n_blocks; ++blk) {
          const int64_t t0 = blk * kBlock, nq = std::min(kBlock, T - t0), nk = t0 + nq;
          const float* qb = q + ((b * T + t0) * Hq + h) * D;
          const float* ob = out + ((b * T + t0) * Hq + h) * D;
          const float* dob = dout + ((b * T + t0) * Hq + h) * D;
          float* p = p_buf.data();
          float* dp = dp_buf.data();
          if (probs != nullptr) {
            const float* pb = probs + ((b * Hq + h) * T + t0) * T;
            for (int64_t r = 0; r < nq; ++r) std::copy(pb + r * T, pb + r * T + nk, p + r * nk);
          } else {
            detail::gemm_serial(false, true, nq, nk, D, scale, qb, st.q_row, kb, st.kv_row, 0.0f, p, nk);
            probs_from_lse(p, nq, nk, t0, lse + (b * Hq + h) * T + t0);
          }
          // dV += P^T dO
          detail::gemm_serial(true, false, nk, D, nq, 1.0f, p, nk, dob, st.q_row, 1.0f, dvb, dkv_row);
          // dP = dO V^T
          detail::gemm_serial(false, true, nq, nk, D, 1.0f, dob, st.q_row, vb, st.kv_row, 0.0f, dp, nk);
          // dS = P * (dP - rowsum(dO * O)), over the causal prefix only.
          softmax_grad_rows(dp, p, ob, dob, st.q_row, nq, nk, D, t0, delta.data());
          // dQ = scale * dS K ; dK += scale * dS^T Q
          detail::gemm_serial(false, false, nq, D, nk, scale, dp, nk, kb, st.kv_row, 0.0f, dq + ((b * T + t0) * Hq + h) * D,
               st.q_row);
          detail::gemm_serial(true, false, nk, D, nq, scale, dp, nk, qb, st.q_row, 1.0f, dkb, dkv_row);
        }
      }
    }
  }

  if (group > 1) {
    const int64_t rows = B * T;
#pragma omp parallel for schedule(static) num_threads(detail::threads_for(rows * Hq * D))
    for (int64_t r = 0; r < rows; ++r) {
      for (int64_t g = 0; g < Hkv; ++g) {
        float* dk_out = dk + (r * Hkv + g) * D;
        float* dv_out = dv + (r * Hkv + g) * D;
        const float* dk_src = dk_part.data() + (r * Hq + g * group) * D;
        const float* dv_src = dv_part.data() + (r * Hq + g * group) * D;
        std::copy(dk_src, dk_src + D, dk_out);
        std::copy(dv_src, dv_src + D, dv_out);
        for (int64_t i = 1; i < group; ++i) {
#pragma omp simd
          for (int64_t j = 0; j < D; ++j) {
            dk_out[j] += dk_src[i * D + j];
            dv_out[j] += dv_src[i * D + j];
          }
        }
      }
    }
  }
}

}  // namespace megaswift::kernels::cpu
