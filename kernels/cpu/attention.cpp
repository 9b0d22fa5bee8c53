// Causal GQA attention over a list of sequences, forward and backward on per-head GEMMs (see attention.hpp).
//
// Both directions cut every sequence into blocks of kBlock queries. A block's keys are the union of its
// rows' ranges, [k_lo, k_hi): S = Q_blk K[k_lo:k_hi]^T is one GEMM, and each row keeps only its own
// range (causal, window), the rest of the row being zero in P. The softmax runs in fp32 with the sum in
// double. Backward recomputes P from lse block by block per (sequence, q head) and accumulates that
// head's dK, dV over the blocks in block order; under GQA each q head writes its own partial, and the
// heads of a group are added in head order at the end. Every output element has one writer and a fixed
// order, so the result does not depend on the thread count.
#include <kernels/cpu/attention.hpp>

#include <algorithm>
#include <cmath>
#include <numeric>
#include <string>
#include <vector>

#include <kernels/cpu/detail/checks.hpp>
#include <kernels/cpu/detail/parallel.hpp>
#include <kernels/cpu/detail/vmath.hpp>
#include <kernels/cpu/threading.hpp>

namespace megaswift::kernels::cpu {
namespace {

constexpr int64_t kBlock = 64;

// Queries [i0, i0 + nq) of sequence `seq`, whose rows together see keys [k_lo, k_hi).
struct Block {
  int64_t seq, i0, nq, k_lo, k_hi;
  int64_t keys() const { return k_hi - k_lo; }
};

// Keys [lo, hi) that query i of `s` sees: bottom-right causal, limited to the window when there is one.
void key_range(const AttentionSequence& s, int64_t window, int64_t i, int64_t* lo, int64_t* hi) {
  const int64_t p = i + s.kv_len - s.q_len;
  *hi = p + 1;
  *lo = window > 0 ? std::max<int64_t>(0, p - window) : 0;
}

std::vector<Block> blocks_of(const AttentionParams& p, const AttentionSequence* seqs, int64_t n_seqs) {
  std::vector<Block> blocks;
  for (int64_t s = 0; s < n_seqs; ++s) {
    for (int64_t i0 = 0; i0 < seqs[s].q_len; i0 += kBlock) {
      const int64_t nq = std::min(kBlock, seqs[s].q_len - i0);
      int64_t lo_first, hi_first, lo_last, hi_last;
      key_range(seqs[s], p.window_left, i0, &lo_first, &hi_first);
      key_range(seqs[s], p.window_left, i0 + nq - 1, &lo_last, &hi_last);
      blocks.push_back({s, i0, nq, lo_first, hi_last});
    }
  }
  return blocks;
}

// Each row's range in the block's own columns (relative to k_lo).
struct RowRanges {
  int64_t lo[kBlock], hi[kBlock];
};

RowRanges row_ranges(const Block& b, const AttentionSequence& s, int64_t window) {
  RowRanges r;
  for (int64_t i = 0; i < b.nq; ++i) {
    key_range(s, window, b.i0 + i, &r.lo[i], &r.hi[i]);
    r.lo[i] -= b.k_lo;
    r.hi[i] -= b.k_lo;
  }
  return r;
}

// s = softcap * tanh(s / softcap) over each row's range; keeps tanh in t (when not null) for backward.
void apply_softcap(float* s, float* t, int64_t nq, int64_t nk, const RowRanges& r, float softcap) {
  const float inv = 1.0f / softcap;
  for (int64_t i = 0; i < nq; ++i) {
    float* row = s + i * nk;
    float* trow = t ? t + i * nk : nullptr;
    for (int64_t j = r.lo[i]; j < r.hi[i]; ++j) {
      const float th = std::tanh(row[j] * inv);
      if (trow) trow[j] = th;
      row[j] = softcap * th;
    }
  }
}

// Turns each row's range of scores into probabilities and zeros the rest; lse[i * lse_stride] per row.
MSW_SIMD_CLONES void softmax_rows(float* s, int64_t nq, int64_t nk, const int64_t* lo, const int64_t* hi, float* lse,
                                  int64_t lse_stride) {
  for (int64_t i = 0; i < nq; ++i) {
    float* row = s + i * nk;
    const float m = detail::max_of(row + lo[i], hi[i] - lo[i]);
    double sum = 0.0;
#pragma omp simd reduction(+ : sum)
    for (int64_t j = lo[i]; j < hi[i]; ++j) {
      const float e = detail::exp_fast(row[j] - m);
      row[j] = e;
      sum += e;
    }
    const float inv = static_cast<float>(1.0 / sum);
#pragma omp simd
    for (int64_t j = lo[i]; j < hi[i]; ++j) row[j] *= inv;
    std::fill(row, row + lo[i], 0.0f);
    std::fill(row + hi[i], row + nk, 0.0f);
    lse[i * lse_stride] = m + static_cast<float>(std::log(sum));
  }
}

// The recompute path: P = exp(S - lse) over each row's range, zero elsewhere.
MSW_SIMD_CLONES void probs_from_lse(float* s, int64_t nq, int64_t nk, const int64_t* lo, const int64_t* hi,
                                    const float* lse, int64_t lse_stride) {
  for (int64_t i = 0; i < nq; ++i) {
    float* row = s + i * nk;
    const float l = lse[i * lse_stride];
#pragma omp simd
    for (int64_t j = lo[i]; j < hi[i]; ++j) row[j] = detail::exp_fast(row[j] - l);
    std::fill(row, row + lo[i], 0.0f);
    std::fill(row + hi[i], row + nk, 0.0f);
  }
}

// dS = P * (dP - delta) in place of dP, delta[i] = <dO[i], O[i]>; zero outside each row's range.
MSW_SIMD_CLONES void softmax_grad_rows(float* dp, const float* p, const float* o, const float* dout, int64_t row_stride,
                                       int64_t nq, int64_t nk, int64_t d, const int64_t* lo, const int64_t* hi,
                                       float* delta) {
  for (int64_t i = 0; i < nq; ++i) {
    double acc = 0.0;
    const float* o_i = o + i * row_stride;
    const float* do_i = dout + i * row_stride;
#pragma omp simd reduction(+ : acc)
    for (int64_t j = 0; j < d; ++j) acc += static_cast<double>(o_i[j]) * do_i[j];
    delta[i] = static_cast<float>(acc);
  }
  for (int64_t i = 0; i < nq; ++i) {
    float* dp_i = dp + i * nk;
    const float* p_i = p + i * nk;
    const float di = delta[i];
#pragma omp simd
    for (int64_t j = lo[i]; j < hi[i]; ++j) dp_i[j] = p_i[j] * (dp_i[j] - di);
    std::fill(dp_i, dp_i + lo[i], 0.0f);
    std::fill(dp_i + hi[i], dp_i + nk, 0.0f);
  }
}

// Blocks (or sequences) in decreasing order of work, so the longest tasks start first.
template <class Work>
std::vector<int64_t> largest_first(int64_t n, Work work) {
  std::vector<int64_t> order(static_cast<size_t>(n));
  std::iota(order.begin(), order.end(), int64_t{0});
  std::stable_sort(order.begin(), order.end(), [&](int64_t a, int64_t b) { return work(a) > work(b); });
  return order;
}

void check_arrays(const char* op, std::initializer_list<std::pair<const char*, const void*>> arrays) {
  for (auto [name, ptr] : arrays) detail::check_ptr(op, name, ptr);
}

}  // namespace

AttentionProblem attention_sbhd(int64_t batch, int64_t q_len, int64_t kv_len, int64_t q_heads, int64_t kv_heads,
                                int64_t head_dim) {
  AttentionProblem pr;
  pr.params.q_heads = q_heads;
  pr.params.kv_heads = kv_heads;
  pr.params.head_dim = head_dim;
  pr.params.q_token_stride = batch * q_heads * head_dim;
  pr.params.kv_token_stride = batch * kv_heads * head_dim;
  pr.params.lse_token_stride = batch * q_heads;
  for (int64_t b = 0; b < batch; ++b)
    pr.seqs.push_back({b * q_heads * head_dim, b * kv_heads * head_dim, b * q_heads, q_len, kv_len});
  return pr;
}

AttentionProblem attention_thd(const int32_t* cu_q, const int32_t* cu_kv, int64_t n_seqs, int64_t q_heads,
                               int64_t kv_heads, int64_t head_dim) {
  AttentionProblem pr;
  pr.params.q_heads = q_heads;
  pr.params.kv_heads = kv_heads;
  pr.params.head_dim = head_dim;
  pr.params.q_token_stride = q_heads * head_dim;
  pr.params.kv_token_stride = kv_heads * head_dim;
  pr.params.lse_token_stride = q_heads;
  for (int64_t i = 0; i < n_seqs; ++i)
    pr.seqs.push_back({int64_t{cu_q[i]} * q_heads * head_dim, int64_t{cu_kv[i]} * kv_heads * head_dim,
                       int64_t{cu_q[i]} * q_heads, int64_t{cu_q[i + 1]} - cu_q[i], int64_t{cu_kv[i + 1]} - cu_kv[i]});
  return pr;
}

void attention_validate(const AttentionParams& p, const AttentionSequence* seqs, int64_t n_seqs) {
  constexpr const char* op = "attention";
  detail::check_positive(op, "q_heads", p.q_heads);
  detail::check_positive(op, "kv_heads", p.kv_heads);
  detail::check_positive(op, "head_dim", p.head_dim);
  if (p.q_heads % p.kv_heads != 0) {
    detail::fail(op, "q_heads " + std::to_string(p.q_heads) + " is not a multiple of kv_heads " +
                         std::to_string(p.kv_heads));
  }
  if (p.q_token_stride < p.q_heads * p.head_dim || p.kv_token_stride < p.kv_heads * p.head_dim ||
      p.lse_token_stride < p.q_heads) {
    detail::fail(op, "token strides (q " + std::to_string(p.q_token_stride) + ", kv " +
                         std::to_string(p.kv_token_stride) + ", lse " + std::to_string(p.lse_token_stride) +
                         ") are smaller than one token's heads");
  }
  detail::check_nonneg(op, "window_left", p.window_left);
  if (!(p.softcap >= 0.0f) || !std::isfinite(p.softcap))
    detail::fail(op, "softcap must be finite and >= 0, got " + std::to_string(p.softcap));
  detail::check_nonneg(op, "number of sequences", n_seqs);
  if (n_seqs > 0) detail::check_ptr(op, "sequences", seqs);
  for (int64_t s = 0; s < n_seqs; ++s) {
    const AttentionSequence& q = seqs[s];
    const std::string which = "sequence " + std::to_string(s);
    if (q.q_offset < 0 || q.kv_offset < 0 || q.lse_offset < 0) detail::fail(op, which + " has a negative offset");
    if (q.q_len < 0 || q.kv_len < 0) detail::fail(op, which + " has a negative length");
    if (q.q_len > q.kv_len) {
      detail::fail(op, which + " has " + std::to_string(q.q_len) + " queries but only " + std::to_string(q.kv_len) +
                           " keys: the queries are the last positions of the keys' sequence (bottom-right causal)");
    }
  }
}

void attention_forward(const AttentionParams& p, const AttentionSequence* seqs, int64_t n_seqs, const float* q,
                       const float* k, const float* v, float* out, float* lse) {
  constexpr const char* op = "attention_forward";
  attention_validate(p, seqs, n_seqs);
  const std::vector<Block> blocks = blocks_of(p, seqs, n_seqs);
  if (blocks.empty()) return;
  check_arrays(op, {{"q", q}, {"k", k}, {"v", v}, {"out", out}, {"lse", lse}});
  const int64_t Hq = p.q_heads, D = p.head_dim, group = Hq / p.kv_heads;
  const auto n_blocks = static_cast<int64_t>(blocks.size());
  const auto order = largest_first(n_blocks, [&](int64_t b) { return blocks[b].nq * blocks[b].keys(); });
  int64_t max_tile = 0, work = 0;
  for (const Block& b : blocks) {
    max_tile = std::max(max_tile, b.nq * b.keys());
    work += b.nq * b.keys();
  }
  const int64_t tasks = n_blocks * Hq;
#pragma omp parallel num_threads(detail::threads_for(work * Hq * D))
  {
    std::vector<float> s_buf(static_cast<size_t>(max_tile));
#pragma omp for schedule(dynamic, 1)
    for (int64_t task = 0; task < tasks; ++task) {
      const Block& b = blocks[order[task / Hq]];
      const int64_t h = task % Hq, g = h / group, nk = b.keys();
      const AttentionSequence& sq = seqs[b.seq];
      const RowRanges r = row_ranges(b, sq, p.window_left);
      const float* qb = q + sq.q_offset + b.i0 * p.q_token_stride + h * D;
      const float* kb = k + sq.kv_offset + b.k_lo * p.kv_token_stride + g * D;
      const float* vb = v + sq.kv_offset + b.k_lo * p.kv_token_stride + g * D;
      float* s = s_buf.data();
      detail::gemm_serial(false, true, b.nq, nk, D, p.scale, qb, p.q_token_stride, kb, p.kv_token_stride, 0.0f, s, nk);
      if (p.softcap > 0.0f) apply_softcap(s, nullptr, b.nq, nk, r, p.softcap);
      softmax_rows(s, b.nq, nk, r.lo, r.hi, lse + sq.lse_offset + b.i0 * p.lse_token_stride + h, p.lse_token_stride);
      detail::gemm_serial(false, false, b.nq, D, nk, 1.0f, s, nk, vb, p.kv_token_stride, 0.0f,
                          out + sq.q_offset + b.i0 * p.q_token_stride + h * D, p.q_token_stride);
    }
  }
}

void attention_backward(const AttentionParams& p, const AttentionSequence* seqs, int64_t n_seqs, const float* q,
                        const float* k, const float* v, const float* out, const float* lse, const float* dout,
                        float* dq, float* dk, float* dv) {
  constexpr const char* op = "attention_backward";
  attention_validate(p, seqs, n_seqs);
  int64_t kv_tokens = 0, kv_extent = 0;
  for (int64_t s = 0; s < n_seqs; ++s) {
    kv_tokens += seqs[s].kv_len;
    kv_extent = std::max(kv_extent, seqs[s].kv_offset + seqs[s].kv_len * p.kv_token_stride);
  }
  if (kv_tokens == 0) return;
  check_arrays(op, {{"k", k}, {"v", v}, {"dk", dk}, {"dv", dv}});
  const int64_t Hq = p.q_heads, Hkv = p.kv_heads, D = p.head_dim, group = Hq / Hkv;
  const std::vector<Block> blocks = blocks_of(p, seqs, n_seqs);
  // Keys that no query sees (sequences without queries) still get their zero gradients.
  if (!blocks.empty())
    check_arrays(op, {{"q", q}, {"out", out}, {"lse", lse}, {"dout", dout}, {"dq", dq}});
  // Blocks come sequence by sequence: first_block[s] .. first_block[s + 1] are those of sequence s.
  std::vector<int64_t> first_block(static_cast<size_t>(n_seqs + 1), 0);
  for (const Block& b : blocks) ++first_block[static_cast<size_t>(b.seq + 1)];
  std::partial_sum(first_block.begin(), first_block.end(), first_block.begin());
  int64_t max_tile = 0, work = 0;
  for (const Block& b : blocks) {
    max_tile = std::max(max_tile, b.nq * b.keys());
    work += b.nq * b.keys();
  }

  // Where each q head accumulates its dK, dV: straight into dk, dv when every kv head has one q head;
  // else a partial laid out as k with Hq heads per token (token base offsets scaled by the group size),
  // which the reduction below adds over the heads of each group in head order.
  std::vector<float> dk_part, dv_part;
  float* dk_heads = dk;
  float* dv_heads = dv;
  int64_t part_scale = 1;
  if (group > 1) {
    dk_part.resize(static_cast<size_t>(kv_extent * group));
    dv_part.resize(static_cast<size_t>(kv_extent * group));
    dk_heads = dk_part.data();
    dv_heads = dv_part.data();
    part_scale = group;
  }
  const int64_t part_stride = p.kv_token_stride * part_scale;

  const auto seq_order = largest_first(n_seqs, [&](int64_t s) { return seqs[s].q_len * seqs[s].kv_len + seqs[s].kv_len; });
  const int64_t tasks = n_seqs * Hq;
#pragma omp parallel num_threads(detail::threads_for(2 * (work + kv_tokens) * Hq * D))
  {
    std::vector<float> p_buf(static_cast<size_t>(max_tile)), dp_buf(static_cast<size_t>(max_tile));
    std::vector<float> t_buf(p.softcap > 0.0f ? static_cast<size_t>(max_tile) : 0);
    std::vector<float> delta(static_cast<size_t>(kBlock));
#pragma omp for schedule(dynamic, 1)
    for (int64_t task = 0; task < tasks; ++task) {
      const int64_t s_index = seq_order[task / Hq];
      const AttentionSequence& sq = seqs[s_index];
      const int64_t h = task % Hq, g = h / group;
      const int64_t dst_head = group > 1 ? h : g;
      float* dkb = dk_heads + sq.kv_offset * part_scale + dst_head * D;
      float* dvb = dv_heads + sq.kv_offset * part_scale + dst_head * D;
      for (int64_t t = 0; t < sq.kv_len; ++t) {
        std::fill_n(dkb + t * part_stride, D, 0.0f);
        std::fill_n(dvb + t * part_stride, D, 0.0f);
      }
      for (int64_t bi = first_block[s_index]; bi < first_block[s_index + 1]; ++bi) {
        const Block& b = blocks[bi];
        const int64_t nq = b.nq, nk = b.keys();
        const RowRanges r = row_ranges(b, sq, p.window_left);
        const int64_t q_at = sq.q_offset + b.i0 * p.q_token_stride + h * D;
        const float* qb = q + q_at;
        const float* ob = out + q_at;
        const float* dob = dout + q_at;
        const float* kb = k + sq.kv_offset + b.k_lo * p.kv_token_stride + g * D;
        const float* vb = v + sq.kv_offset + b.k_lo * p.kv_token_stride + g * D;
        const float* lb = lse + sq.lse_offset + b.i0 * p.lse_token_stride + h;
        float* pr = p_buf.data();
        float* dp = dp_buf.data();
        float* th = t_buf.empty() ? nullptr : t_buf.data();
        detail::gemm_serial(false, true, nq, nk, D, p.scale, qb, p.q_token_stride, kb, p.kv_token_stride, 0.0f, pr, nk);
        if (th) apply_softcap(pr, th, nq, nk, r, p.softcap);
        probs_from_lse(pr, nq, nk, r.lo, r.hi, lb, p.lse_token_stride);
        // dV += P^T dO
        detail::gemm_serial(true, false, nk, D, nq, 1.0f, pr, nk, dob, p.q_token_stride, 1.0f,
                            dvb + b.k_lo * part_stride, part_stride);
        // dP = dO V^T, then dS = P * (dP - rowsum(dO * O)) over each row's range
        detail::gemm_serial(false, true, nq, nk, D, 1.0f, dob, p.q_token_stride, vb, p.kv_token_stride, 0.0f, dp, nk);
        softmax_grad_rows(dp, pr, ob, dob, p.q_token_stride, nq, nk, D, r.lo, r.hi, delta.data());
        if (th) {  // through the cap: d(softcap * tanh(x / softcap))/dx = 1 - tanh^2
          for (int64_t i = 0; i < nq; ++i)
            for (int64_t j = r.lo[i]; j < r.hi[i]; ++j) dp[i * nk + j] *= 1.0f - th[i * nk + j] * th[i * nk + j];
        }
        // dQ = scale * dS K ; dK += scale * dS^T Q
        detail::gemm_serial(false, false, nq, D, nk, p.scale, dp, nk, kb, p.kv_token_stride, 0.0f, dq + q_at,
                            p.q_token_stride);
        detail::gemm_serial(true, false, nk, D, nq, p.scale, dp, nk, qb, p.q_token_stride, 1.0f,
                            dkb + b.k_lo * part_stride, part_stride);
      }
    }
  }

  if (group > 1) {
    // Row r of the flattened kv tokens is token r - kv_first[s] of the sequence s that holds it.
    std::vector<int64_t> kv_first(static_cast<size_t>(n_seqs + 1), 0);
    for (int64_t s = 0; s < n_seqs; ++s) kv_first[s + 1] = kv_first[s] + seqs[s].kv_len;
#pragma omp parallel for schedule(static) num_threads(detail::threads_for(kv_tokens * Hq * D))
    for (int64_t row = 0; row < kv_tokens; ++row) {
      const auto it = std::upper_bound(kv_first.begin(), kv_first.end(), row);
      const int64_t s = (it - kv_first.begin()) - 1;
      const int64_t token = seqs[s].kv_offset + (row - kv_first[s]) * p.kv_token_stride;
      for (int64_t g = 0; g < Hkv; ++g) {
        float* dk_out = dk + token + g * D;
        float* dv_out = dv + token + g * D;
        const float* dk_src = dk_part.data() + token * group + g * group * D;
        const float* dv_src = dv_part.data() + token * group + g * group * D;
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
