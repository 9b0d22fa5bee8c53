// Causal GQA attention on the GPU (ops.h's attention_forward/backward and the KV-cache attention), equal to the
// CPU kernels (kernels/cpu/attention.hpp): bottom-right causal alignment when a sequence has fewer queries than
// keys, sliding window, softcap, fp32 softmax, lse kept for backward.
//
// The sequence boundaries of packed (THD) tensors and the cache lengths live on the device and are read only
// there: the host sizes grids with the number of sequences (a tensor shape) and a bound on their lengths
// (max_seqlen, or the row count when not given); the blocks loop over the tiles of their sequence with the
// grid's tile count as stride, so a bound that is too small costs time, never rows. Offsets read on the device
// are clamped into the tensors, so bad offsets cannot make a kernel touch memory outside them.
//
// Forward: FlashAttention-style, one block per (sequence, 64-query tile, q head), keys in tiles of 64 with an
// online softmax in fp32; out and lse written once. Backward recomputes P from lse: dq by one kernel over query
// tiles (looping over the key tiles each query sees), dk and dv by another over key tiles (looping over the
// query tiles that see them, and over the q heads of the kv head's group in head order). No atomics: every
// output element has one writer and a fixed order, so results are the same on every run.
#pragma once

#include <kernels/cuda/launch.hpp>

#include <cstdint>

namespace megaswift::kernels::cuda {

constexpr int32_t kAttentionMaxHeadDim = 256;

// Where a sequence's keys and values are.
enum class AttentionKv : int32_t {
  batched = 0,  // SBHD: (Skv, n_seqs, Hkv, D), sequence b is batch row b, kv_len keys each
  packed = 1,   // THD: (kv_rows, Hkv, D), sequence i is rows [cu_kv[i], cu_kv[i+1])
  cache = 2     // a KV cache (n_seqs, capacity, Hkv, D) with row stride cache_row_stride: row i holds
                // cache_seqlens[i] cached tokens and then the call's new ones (kv_len = cached + q_len)
};

struct AttentionGeometry {
  int64_t n_seqs = 0;
  // Queries: SBHD (q_len, n_seqs, Hq, D), or THD (q_rows, Hq, D) with sequence i at rows [cu_q[i], cu_q[i+1]).
  bool q_packed = false;
  int64_t q_len = 0;             // SBHD
  int64_t q_rows = 0;            // THD
  const int32_t* cu_q = nullptr; // THD, device I32 (n_seqs + 1)
  int64_t max_q = 0;             // a bound on every sequence's queries, for the grid (blocks loop past it)
  AttentionKv kv = AttentionKv::batched;
  int64_t kv_len = 0;            // batched
  int64_t kv_rows = 0;           // packed
  const int32_t* cu_kv = nullptr;           // packed, device I32 (n_seqs + 1)
  const int32_t* cache_seqlens = nullptr;   // cache, device I32 (n_seqs)
  int64_t cache_capacity = 0, cache_row_stride = 0;
  int64_t max_kv = 0;            // a bound on every sequence's keys, for the backward grid
  int32_t q_heads = 0, kv_heads = 0, head_dim = 0;  // head_dim <= kAttentionMaxHeadDim
  float scale = 1.0f;
  int64_t window_left = 0;
  float softcap = 0.0f;
};

// Tokens of q (SBHD q_len * n_seqs, THD q_rows); lse and the backward's scratch hold q_heads floats per token.
inline int64_t attention_q_tokens(const AttentionGeometry& g) { return g.q_packed ? g.q_rows : g.q_len * g.n_seqs; }

// out (q's layout, dtype) and lse (F32, one per token and q head; may be NULL) of every query of every sequence.
// q, out in `dtype`; k, v in `kv_dtype` (equal to dtype, or f32 for a KV cache of a bf16/f16 model).
void attention_forward(const AttentionGeometry& g, const void* q, const void* k, const void* v, Dtype dtype,
                       Dtype kv_dtype, void* out, float* lse, Stream stream);

// Floats of rowsum(dout * out) per token and q head at the start of the backward's scratch (rounded up to 256
// bytes, where the rest of it begins).
inline int64_t attention_delta_floats(const AttentionGeometry& g) { return (attention_q_tokens(g) * g.q_heads + 63) / 64 * 64; }

// Floats of device scratch attention_backward needs for this geometry and dtype under the current kernel choice:
// the delta rows and, where the tensor-core path materializes dS (attention_tc.hpp), its tiles.
int64_t attention_backward_scratch(const AttentionGeometry& g, Dtype dtype);

// dq, dk, dv (written, every token of every sequence; keys no query sees get zeros) from the forward's out and
// lse; all tensors of `dtype` but lse. kv must be batched or packed.
void attention_backward(const AttentionGeometry& g, const void* q, const void* k, const void* v, const void* out,
                        const float* lse, const void* dout, void* dq, void* dk, void* dv, Dtype dtype, float* scratch,
                        Stream stream);

// THD: rows of x (rows, row_elems) outside [cu[0], cu[n_seqs]) (tokens no sequence covers) set to zero, cu read
// on the device.
void attention_zero_uncovered(void* x, Dtype dtype, int64_t rows, int64_t row_elems, const int32_t* cu, int64_t n_seqs,
                              Stream stream);

}  // namespace megaswift::kernels::cuda
