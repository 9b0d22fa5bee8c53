// Token embedding (a row lookup) and its backward (a deterministic scatter-add), as kernels/cpu/embedding.cpp,
// optionally on a vocab-parallel shard holding rows [vocab_start, vocab_start + vocab) of the vocabulary.
//
// Ids outside [vocab_start, vocab_start + vocab) give zero rows forward and are skipped backward. On the CPU that
// is the shard rule (vocab_parallel != 0); without vocab_parallel the CPU op refuses such an id with an error naming
// it, which the CUDA op cannot do without reading the ids on the host (a synchronisation, which no op makes): the
// kernels apply the shard rule to every call, so an out-of-range id reads as a zero row and adds no gradient.
//
// Backward: a stable radix sort of the token indices by row (ids outside the table sort last), then, for each run
// of equal rows, one thread per column adds the run's dout rows in token order onto the row's current value in fp32
// and stores once. That is the CPU kernel's order exactly (it accumulates dtable's value plus each token in token
// order, in fp32), so results equal it bit for bit in f32 and are the same on every run (no atomics). Cost: the
// sort (a few passes over n 32-bit keys) plus n * dim reads; a row with m tokens is m dependent additions (loads
// issued 8 at a time), so a very frequent id (padding) is the critical path.
#pragma once

#include <kernels/cuda/launch.hpp>

#include <cstddef>
#include <cstdint>

namespace megaswift::kernels::cuda {

// ids: n I64 values, or I32 when ids_i32. table (vocab, dim) -> out (n, dim); the dtypes may differ.
void embedding_forward(const void* ids, bool ids_i32, int64_t n, const void* table, Dtype table_dtype, int64_t vocab,
                       int64_t dim, void* out, Dtype out_dtype, int64_t vocab_start, Stream stream);

// Bytes of device scratch embedding_backward needs for n ids (n < 2^31) and a table of vocab rows (< 2^31 - 1).
size_t embedding_backward_scratch_bytes(int64_t n, int64_t vocab);

// dtable[id - vocab_start, :] += dout[i, :] for every in-range id, in token order. dout (n, dim), dtable (vocab, dim).
void embedding_backward(const void* ids, bool ids_i32, int64_t n, const void* dout, Dtype dout_dtype, int64_t vocab,
                        int64_t dim, void* dtable, Dtype dtable_dtype, int64_t vocab_start, void* scratch,
                        size_t scratch_bytes, Stream stream);

}  // namespace megaswift::kernels::cuda
