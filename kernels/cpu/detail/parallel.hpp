// Internal helpers for deterministic multi-threading.
//
// Every kernel splits its work so that each output element is produced by exactly one task whose
// internal order is fixed, so results do not depend on the thread count. Column sums over many rows
// (parameter gradients of norms and biases) go through column_reduce, which sums fixed row blocks
// and then adds the block partials in block order.
#pragma once

#include <algorithm>
#include <cstdint>
#include <vector>

namespace megaswift::kernels::cpu::detail {

// The thread count for an OpenMP region doing about `work` cheap operations: 1 when the region would
// cost more to start than to run.
int threads_for(int64_t work);

// One single-threaded OpenBLAS GEMM on the calling thread (row-major, arguments as cpu::gemm, already
// checked). Kernels that parallelize over heads or blocks call it from inside their own regions.
void gemm_serial(bool trans_a, bool trans_b, int64_t m, int64_t n, int64_t k, float alpha, const float* a,
                 int64_t lda, const float* b, int64_t ldb, float beta, float* c, int64_t ldc);

inline constexpr int64_t kReduceRowBlock = 256;
inline constexpr int64_t kReduceColChunk = 256;

// out[j] += sum_i f(i, j) for j in [0, cols). add_row(i, j0, j1, acc) must add row i's terms for
// columns [j0, j1) into acc[0 .. j1-j0) (doubles). Deterministic for any thread count.
template <class AddRow>
void column_reduce(int64_t rows, int64_t cols, AddRow add_row, float* out) {
  if (rows <= 0 || cols <= 0) return;
  const int64_t n_blocks = (rows + kReduceRowBlock - 1) / kReduceRowBlock;
  const int64_t n_chunks = (cols + kReduceColChunk - 1) / kReduceColChunk;
  std::vector<double> partial(static_cast<size_t>(n_blocks * cols), 0.0);
  const int64_t tasks = n_blocks * n_chunks;
#pragma omp parallel for schedule(static) num_threads(threads_for(rows * cols))
  for (int64_t task = 0; task < tasks; ++task) {
    const int64_t block = task / n_chunks, chunk = task % n_chunks;
    const int64_t j0 = chunk * kReduceColChunk, j1 = std::min(cols, j0 + kReduceColChunk);
    const int64_t i1 = std::min(rows, (block + 1) * kReduceRowBlock);
    double* acc = partial.data() + block * cols + j0;
    for (int64_t i = block * kReduceRowBlock; i < i1; ++i) add_row(i, j0, j1, acc);
  }
#pragma omp parallel for schedule(static) num_threads(threads_for(n_blocks * cols))
  for (int64_t j = 0; j < cols; ++j) {
    double s = 0.0;
    for (int64_t b = 0; b < n_blocks; ++b) s += partial[static_cast<size_t>(b * cols + j)];
    out[j] += static_cast<float>(s);
  }
}

// out[j] += sum_i x[i * cols + j]: the bias gradient of every op that adds a bias per column.
inline void column_sum(const float* x, int64_t rows, int64_t cols, float* out) {
  column_reduce(
      rows, cols,
      [&](int64_t i, int64_t j0, int64_t j1, double* acc) {
        const float* row = x + i * cols;
#pragma omp simd
        for (int64_t j = j0; j < j1; ++j) acc[j - j0] += row[j];
      },
      out);
}

}  // namespace megaswift::kernels::cpu::detail
