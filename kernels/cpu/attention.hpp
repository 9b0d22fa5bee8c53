// Causal self-attention over a list of sequences, with grouped-query attention (GQA), bottom-right
// causal alignment, an optional sliding window and optional score soft-capping; fp32 softmax.
//
// A call attends within each sequence of a list. Sequence s has Lq queries and Lkv >= Lq keys; its
// queries are its LAST Lq positions (decoding with a KV cache, a chunked prefill): query i sits at
// position p = i + Lkv - Lq and sees the keys j with lo(p) <= j <= p (bottom-right causal), where
// lo(p) = max(0, p - window_left) with a window and 0 without. For query i and head h:
//   s_j  = scale * <q_i,h, k_j,g(h)>,  then s_j = softcap * tanh(s_j / softcap) when softcap > 0
//   lse  = log sum_j exp(s_j),  P_j = exp(s_j - lse),  out_i,h = sum_j P_j v_j,g(h)
//   g(h) = h / (Hq / Hkv): query head h reads kv head h / group_size (HF's repeat_kv order)
// Nothing is kept but lse (flash-attention semantics): backward recomputes P from q, k and lse.
//   backward: dv = P^T dout, dP = dout v^T, dS = P * (dP - rowsum(dout * out)), times
//             (1 - tanh^2) under softcap, dq = scale * dS k, dk = scale * dS^T q (summed over the
//             query heads of each kv group). dq, dk, dv written (=) on the tokens of the sequences.
//
// Memory layout: every token holds its heads contiguously (head h at h * D, D = head_dim, channels
// dense). Token t of sequence s starts at element seqs[s].q_offset + t * q_token_stride of q, out,
// dout and dq; at kv_offset + t * kv_token_stride of k, v, dk and dv; its lse values (one per q head)
// at lse_offset + t * lse_token_stride of lse. The two layouts of ops.h map onto this:
//   SBHD q (Sq, B, Hq, D): sequence b starts at b*Hq*D, token stride B*Hq*D (attention_sbhd)
//   THD  q (T, Hq, D):     sequence i starts at cu[i]*Hq*D, token stride Hq*D (attention_thd)
// Sequences must not overlap (each token belongs to one sequence), and no array may alias another.
// Elements of the arrays outside every sequence are not touched.
//
// Work: forward runs one task per (query block of 64, q head), its keys limited to the block's
// causal (and window) range, with single-threaded OpenBLAS GEMMs inside. Backward runs one task per
// (sequence, q head) over its query blocks in order; under GQA each q head accumulates its own
// partial dk/dv, which are then added over the heads of a group in head order. Every output element
// has one writer and a fixed order, so results do not depend on the thread count. Scratch (score
// blocks, the GQA partials) is allocated inside the kernel: the CPU backend is synchronous.
#pragma once

#include <cstdint>
#include <vector>

namespace megaswift::kernels::cpu {

struct AttentionSequence {
  int64_t q_offset = 0;    // element offset of the first query token (head 0) in q, out, dout, dq
  int64_t kv_offset = 0;   // element offset of the first key token (head 0) in k, v, dk, dv
  int64_t lse_offset = 0;  // element offset of the first query token's lse (head 0)
  int64_t q_len = 0;       // Lq >= 0
  int64_t kv_len = 0;      // Lkv >= Lq
};

struct AttentionParams {
  int64_t q_heads = 0;
  int64_t kv_heads = 0;  // divides q_heads
  int64_t head_dim = 0;
  int64_t q_token_stride = 0;    // >= q_heads * head_dim
  int64_t kv_token_stride = 0;   // >= kv_heads * head_dim
  int64_t lse_token_stride = 0;  // >= q_heads
  float scale = 1.0f;            // multiplies q.k (1/sqrt(D) for these models)
  int64_t window_left = 0;       // > 0: each query sees itself and the window_left keys before it
  float softcap = 0.0f;          // > 0: scores become softcap * tanh(score / softcap) (Gemma 2)
};

// The sequences and strides of one call.
struct AttentionProblem {
  AttentionParams params;
  std::vector<AttentionSequence> seqs;
};

// SBHD: q (Sq, B, Hq, D), k and v (Skv, B, Hkv, D), lse (Sq, B, Hq), all dense: batch row b is sequence b.
AttentionProblem attention_sbhd(int64_t batch, int64_t q_len, int64_t kv_len, int64_t q_heads, int64_t kv_heads,
                                int64_t head_dim);

// THD: q (Tq, Hq, D), k and v (Tkv, Hkv, D), lse (Tq, Hq), all dense; sequence i spans rows
// [cu_q[i], cu_q[i+1]) of q and [cu_kv[i], cu_kv[i+1]) of k and v (n_seqs + 1 entries each).
AttentionProblem attention_thd(const int32_t* cu_q, const int32_t* cu_kv, int64_t n_seqs, int64_t q_heads,
                               int64_t kv_heads, int64_t head_dim);

// Throws std::invalid_argument naming the bad field: non-positive heads or head_dim, q_heads not a
// multiple of kv_heads, strides too small, a negative offset or length, a sequence with more queries
// than keys, a negative window or softcap.
void attention_validate(const AttentionParams& params, const AttentionSequence* seqs, int64_t n_seqs);

void attention_forward(const AttentionParams& params, const AttentionSequence* seqs, int64_t n_seqs, const float* q,
                       const float* k, const float* v, float* out, float* lse);

void attention_backward(const AttentionParams& params, const AttentionSequence* seqs, int64_t n_seqs, const float* q,
                        const float* k, const float* v, const float* out, const float* lse, const float* dout,
                        float* dq, float* dk, float* dv);

}  // namespace megaswift::kernels::cpu
