// The KV cache of incremental decoding: new keys (or values) written after each row's cached tokens, and
// the attention problem of the new queries over a row's cached plus new keys (attention.hpp's kernel runs it).
//
// A cache is (rows, capacity, token_elems) with dense rows: row i, position p starts at i * row_stride + p *
// token_elems (row_stride >= capacity * token_elems: a plugin may interleave the keys and values of a row). The new tokens of row i are `count` tokens at src_offset + j * src_token_stride of the
// source (SBHD and THD new-token tensors both map onto this, as in attention.hpp).
#pragma once

#include <kernels/cpu/attention.hpp>

#include <cstdint>

namespace megaswift::kernels::cpu {

struct KvCacheRow {
  int64_t cached = 0;      // tokens already in the row
  int64_t count = 0;       // new tokens
  int64_t src_offset = 0;  // element offset of the row's first new token in the source (and in q, out: see below)
};

// Throws std::invalid_argument when a row's cached + count passes capacity or a field is negative.
void kv_cache_validate(const KvCacheRow* rows, int64_t n_rows, int64_t capacity);

// cache[row i, positions cached .. cached+count) = the row's new tokens of src.
void kv_cache_write(const KvCacheRow* rows, int64_t n_rows, int64_t capacity, int64_t token_elems, const float* src,
                    int64_t src_token_stride, float* cache, int64_t row_stride);

// The attention of each row's new queries over its cached + new keys: sequence i has Lq = rows[i].count
// queries at q_offset = rows[i].src_offset * (q_heads / kv_heads) (q rows carry q_heads heads where the new
// keys carry kv_heads) with token stride q_token_stride, and Lkv = cached + count keys at row i of the cache
// (i * row_stride);
// lse is laid out like q with one value per head (lse_token_stride, lse offset = q offset / head_dim).
AttentionProblem attention_kvcache(const KvCacheRow* rows, int64_t n_rows, int64_t capacity, int64_t q_heads,
                                   int64_t kv_heads, int64_t head_dim, int64_t q_token_stride,
                                   int64_t lse_token_stride, int64_t row_stride);

}  // namespace megaswift::kernels::cpu
