// Causal self-attention with grouped-query attention (GQA), fp32 softmax.
//
//   S[b,h,t,s] = scale * <q[b,t,h,:], k[b,s,g(h),:]>   for s <= t (causal), -inf above the diagonal
//   P = softmax_s(S),  out[b,t,h,:] = sum_s P[b,h,t,s] * v[b,s,g(h),:]
//   g(h) = h / (Hq / Hkv): query head h reads kv head h / group_size (HF's repeat_kv order)
//   q (B, T, Hq, D), k and v (B, T, Hkv, D), out (B, T, Hq, D)   (heads contiguous per token, the layout
//   of the QKV projection's output after split and RoPE; out feeds the output projection as (B*T, Hq*D))
//   scale is 1/sqrt(D) for these models (the caller passes it: query pre-scaling variants differ).
//
// Saved for backward: lse (B, Hq, T), the log-sum-exp of each row of S, always; and optionally the
// probabilities P (B, Hq, T, T) (zeros above the diagonal) when probs is not null. Backward uses P when
// given, else recomputes it from q, k and lse (one more GEMM, T*T less memory: selective recompute).
//   backward: dv = P^T dout, dP = dout v^T, dS = P * (dP - rowsum(dout * out)),
//             dq = scale * dS k, dk = scale * dS^T q  (summed over the query heads of each kv group)
//   dq (B, T, Hq, D), dk and dv (B, T, Hkv, D): all three written (=).
//
// Forward runs one task per (batch, q head, block of 64 queries), keys limited to the causal prefix of
// the block, with single-threaded OpenBLAS GEMMs inside. Backward runs one task per (batch, q head)
// over its query blocks in order; under GQA each q head writes its own partial dk/dv, which are then
// added over the heads of a group in head order. Results do not depend on the thread count. Nothing
// may alias.
#pragma once

#include <cstdint>

namespace megaswift::kernels::cpu {

struct AttentionShape {
  int64_t batch = 0;
  int64_t seq = 0;
  int64_t q_heads = 0;
  int64_t kv_heads = 0;  // divides q_heads
  int64_t head_dim = 0;
};

// Throws std::invalid_argument naming the bad field (non-positive sizes, q_heads % kv_heads != 0).
void attention_validate(const AttentionShape& shape);

void attention_forward(const AttentionShape& shape, const float* q, const float* k, const float* v, float scale,
                       float* out, float* lse, float* probs = nullptr);

void attention_backward(const AttentionShape& shape, const float* q, const float* k, const float* v,
                        const float* out, const float* lse, const float* probs, const float* dout, float scale,
                        float* dq, float* dk, float* dv);

}  // namespace megaswift::kernels::cpu
