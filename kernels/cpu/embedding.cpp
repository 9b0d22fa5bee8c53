// Token embedding lookup and its scatter-add backward (see embedding.hpp).
#include <kernels/cpu/embedding.hpp>

#include <algorithm>
#include <cstring>
#include <string>

#include <kernels/cpu/detail/checks.hpp>
#include <kernels/cpu/detail/parallel.hpp>

namespace megaswift::kernels::cpu {
namespace {

void check_ids(const char* op, const int64_t* ids, int64_t n, int64_t vocab, int64_t vocab_start) {
  for (int64_t i = 0; i < n; ++i) {
    if (ids[i] < vocab_start || ids[i] - vocab_start >= vocab) {
      detail::fail(op, "token id " + std::to_string(ids[i]) + " at position " + std::to_string(i) +
                           " is outside the vocabulary [" + std::to_string(vocab_start) + ", " +
                           std::to_string(vocab_start + vocab) +
                           "): the tokenizer and the model's vocab_size disagree");
    }
  }
}

void check_args(const char* op, const int64_t* ids, int64_t n, const void* a, const void* b, int64_t vocab,
                int64_t dim, int64_t vocab_start, bool shard) {
  detail::check_nonneg(op, "n_tokens", n);
  detail::check_positive(op, "vocab", vocab);
  detail::check_positive(op, "dim", dim);
  detail::check_nonneg(op, "vocab_start", vocab_start);
  if (n == 0) return;
  detail::check_ptr(op, "ids", ids);
  detail::check_ptr(op, "table/dout", a);
  detail::check_ptr(op, "out/dtable", b);
  if (!shard) check_ids(op, ids, n, vocab, vocab_start);
}

bool in_shard(int64_t id, int64_t vocab_start, int64_t vocab) { return id >= vocab_start && id - vocab_start < vocab; }

}  // namespace

void embedding_forward(const int64_t* ids, int64_t n_tokens, const float* table, int64_t vocab, int64_t dim,
                       float* out, int64_t vocab_start, bool shard) {
  check_args("embedding_forward", ids, n_tokens, table, out, vocab, dim, vocab_start, shard);
#pragma omp parallel for schedule(static) num_threads(detail::threads_for(n_tokens * dim))
  for (int64_t i = 0; i < n_tokens; ++i) {
    if (in_shard(ids[i], vocab_start, vocab)) {
      std::memcpy(out + i * dim, table + (ids[i] - vocab_start) * dim, static_cast<size_t>(dim) * sizeof(float));
    } else {
      std::fill_n(out + i * dim, dim, 0.0f);
    }
  }
}

void embedding_backward(const int64_t* ids, int64_t n_tokens, const float* dout, int64_t vocab, int64_t dim,
                        float* dtable, int64_t vocab_start, bool shard) {
  check_args("embedding_backward", ids, n_tokens, dout, dtable, vocab, dim, vocab_start, shard);
  // Each task owns a slice of columns and walks the tokens in order: no two threads touch one
  // element, and every element sums its tokens in token order.
  constexpr int64_t kChunk = 64;
  const int64_t n_chunks = (dim + kChunk - 1) / kChunk;
#pragma omp parallel for schedule(static) num_threads(detail::threads_for(n_tokens * dim))
  for (int64_t c = 0; c < n_chunks; ++c) {
    const int64_t j0 = c * kChunk, j1 = std::min(dim, j0 + kChunk);
    for (int64_t i = 0; i < n_tokens; ++i) {
      if (!in_shard(ids[i], vocab_start, vocab)) continue;
      float* dst = dtable + (ids[i] - vocab_start) * dim;
      const float* src = dout + i * dim;
#pragma omp simd
      for (int64_t j = j0; j < j1; ++j) dst[j] += src[j];
    }
  }
}

}  // namespace megaswift::kernels::cpu
