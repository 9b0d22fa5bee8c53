// Split of Megatron's fused QKV projection output into q, k, v, and its backward (the join).
//
// linear_qkv's output rows are grouped per kv group g (Megatron's layout, research/formats.md 5.2):
//   qkv[r, g*(n+2)*D : ...] = [ q heads g*n .. g*n+n-1 (n*D) | k head g (D) | v head g (D) ]   n = Hq/Hkv
//   forward:  qkv (R, Hkv*(n+2)*D) -> q (R, Hq, D), k (R, Hkv, D), v (R, Hkv, D)      R = B*T rows
//   backward: dq, dk, dv -> dqkv (R, Hkv*(n+2)*D), written (=)
#pragma once

#include <cstdint>

namespace megaswift::kernels::cpu {

void qkv_split_forward(const float* qkv, float* q, float* k, float* v, int64_t rows, int64_t q_heads,
                       int64_t kv_heads, int64_t head_dim);

void qkv_split_backward(const float* dq, const float* dk, const float* dv, float* dqkv, int64_t rows,
                        int64_t q_heads, int64_t kv_heads, int64_t head_dim);

}  // namespace megaswift::kernels::cpu
