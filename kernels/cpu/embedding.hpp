// Token embedding: a row lookup forward, a scatter-add of the output gradient backward.
//
//   forward:  out[i, :] = table[ids[i] - vocab_start, :]                ids (N), table (V, C), out (N, C)
//   backward: dtable[ids[i] - vocab_start, :] += dout[i, :] for every i  dout (N, C), dtable (V, C)
//
// vocab_start is the first id of the table (a vocab-parallel shard holds rows [vocab_start,
// vocab_start + V) of the full vocabulary; 0 otherwise). With shard == true an id outside the shard
// gives a zero row forward and is skipped backward (the tensor-parallel all-reduce of the output is the
// caller's); with shard == false it throws std::invalid_argument naming the id and its position.
//
// Gradient convention: dtable ACCUMULATES (+=), as every parameter gradient of these kernels, so
// micro-batches (and a tied output head) add into one buffer. A token that occurs several times adds
// its rows in token order; each column is summed by one thread, so the result is the same for any
// thread count.
#pragma once

#include <cstdint>

namespace megaswift::kernels::cpu {

void embedding_forward(const int64_t* ids, int64_t n_tokens, const float* table, int64_t vocab, int64_t dim,
                       float* out, int64_t vocab_start = 0, bool shard = false);

void embedding_backward(const int64_t* ids, int64_t n_tokens, const float* dout, int64_t vocab, int64_t dim,
                        float* dtable, int64_t vocab_start = 0, bool shard = false);

}  // namespace megaswift::kernels::cpu
