// Argument checks that the CPU and the CUDA backends make alike (ops.h), so both refuse the same calls with the
// same words: a GEMM's operand shapes, the vocab-parallel cross-entropy neither backend reduces yet, and the
// new tokens of a KV-cache attention call.
#pragma once

#include "host/ops/tensor_args.hpp"

#include <megaswift/c/ops.h>

#include <cstdint>

namespace megaswift::host::ops {

struct GemmDims {
  int64_t m, n, k;
};
// a, b and c 2-D with op(a) (m, k), op(b) (k, n) and c (m, n).
GemmDims gemm_dims(const msw_tensor& a, const msw_tensor& b, const msw_tensor& c, bool trans_a, bool trans_b);

// tp_comm with more than one rank: UNSUPPORTED naming the backend ("CPU", "CUDA") and what to do.
void refuse_vocab_parallel(const msw_cross_entropy_args& a, const char* backend);

// The new tokens of attention_kvcache_forward for N cache rows of (Hkv, D): SBHD q (S, N, Hq, D) with k_new and
// v_new (S, N, Hkv, D), or THD q (T, Hq, D) with (T, Hkv, D). Returns Hq and S (SBHD) or T (THD).
struct KvNewTokens {
  int64_t q_heads, tokens;
};
KvNewTokens kvcache_new_tokens(int32_t layout, const msw_tensor& q, const msw_tensor& k_new, const msw_tensor& v_new,
                               int64_t rows, int64_t kv_heads, int64_t head_dim);

}  // namespace megaswift::host::ops
