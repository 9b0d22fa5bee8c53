// Split of Megatron's fused QKV projection output into q, k, v and its backward (the join), as
// kernels/cpu/qkv_split.cpp: per row, kv group g holds [n query heads | key head | value head] of head_dim
// channels each, n = q_heads / kv_heads. Pure data movement, so the results equal the CPU's exactly.
#pragma once

#include <kernels/cuda/launch.hpp>

#include <cstdint>

namespace megaswift::kernels::cuda {

// qkv (rows, kv_heads*(n+2)*head_dim) -> q (rows, q_heads, head_dim), k and v (rows, kv_heads, head_dim);
// backward (join): q, k, v -> qkv, written. All of one dtype, dense.
void qkv_split(void* qkv, void* q, void* k, void* v, Dtype dtype, int64_t rows, int64_t q_heads, int64_t kv_heads,
               int64_t head_dim, bool join, Stream stream);

// The same move with RoPE on q and k in one pass (ops.h, msw_qkv_split_args): split writes q and k rotated as
// rope_apply would (tables cos, sin of rotary_dim / 2 columns, table row r / rows_per_position of row r); join
// writes the inverse rotation of q and k into qkv and leaves q and k as they are. In 16-byte packs only: false
// (nothing launched) when head_dim or rotary_dim / 2 is not a multiple of the pack or a pointer is not 16-byte
// aligned; the caller then splits and rotates in two passes, with the same bits.
bool qkv_split_rope(void* qkv, void* q, void* k, void* v, Dtype dtype, int64_t rows, int64_t q_heads, int64_t kv_heads,
                    int64_t head_dim, const float* cos, const float* sin, int64_t rotary_dim, int64_t rows_per_position,
                    bool join, Stream stream);

}  // namespace megaswift::kernels::cuda
