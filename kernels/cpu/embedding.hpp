// Token embedding: a row lookup forward, a scatter-add of the output gradient backward.
//
//   forward:  out[i, :] = table[ids[i], :]                     ids (N), table (V, C), out (N, C)
//   backward: dtable[ids[i], :] += dout[i, :] for every i      dout (N, C), dtable (V, C)
//
// Gradient convention: dtable ACCUMULATES (+=), as every parameter gradient of these kernels, so
// micro-batches (and a tied output head) add into one buffer. A token that occurs several times adds
// its rows in token order; each column is summed by one thread, so the result is the same for any
// thread count. An id outside [0, V) throws std::invalid_argument naming the id and its position.
#pragma once

#include <cstdint>

namespace megaswift::kernels::cpu {

void embedding_forward(const int64_t* ids, int64_t n_tokens, const float* table, int64_t vocab, int64_t dim,
                       float* out);

void embedding_backward(const int64_t* ids, int64_t n_tokens, const float* dout, int64_t vocab, int64_t dim,
                        float* dtable);

}  // namespace megaswift::kernels::cpu
