// Dense layers and the row-major GEMM on OpenBLAS (see linear.hpp).
#include <kernels/cpu/linear.hpp>

#include <algorithm>
#include <climits>
#include <cstring>
#include <string>

#include <cblas.h>
#include <omp.h>

#include <kernels/cpu/detail/checks.hpp>
#include <kernels/cpu/detail/parallel.hpp>
#include <kernels/cpu/threading.hpp>

namespace megaswift::kernels::cpu {
namespace {

blasint to_blas(const char* name, int64_t v) {
  if (v > INT_MAX) {
    detail::fail("gemm", std::string(name) + " = " + std::to_string(v) +
                             " exceeds OpenBLAS's 32-bit index; split the operation");
  }
  return static_cast<blasint>(v);
}

// Output tiles of a GEMM, chosen from the shape alone. Small products run as one call; larger ones
// are halved along their longer side until there are 16 tiles (or tiles reach 64 x 128). Each tile
// re-packs its operand panels, so few large tiles keep that overhead low (measured single-threaded:
// ~5% for 16 tiles, 15-20% for 48 tiles of 256 x 256 on a 2048 x 1536 x 512 product); that is the
// price of results that do not depend on the thread count.
struct Tiling {
  int64_t tm, tn, rows, cols;
};

Tiling tiling(int64_t m, int64_t n, int64_t k) {
  // A single row (a decode step's GEMV) reads the whole weight for little arithmetic: it is bound by memory
  // bandwidth, which every core adds to, so it is cut into many narrow column tiles where a GEMM is not.
  const bool one_row = m == 1;
  const double single_call_work = one_row ? 1 << 16 : 1 << 20;  // m*n*k below this: one call
  const int64_t kWantTiles = one_row ? 64 : 16;
  const int64_t kMinRows = 64, kMinCols = one_row ? 32 : 128;
  if (static_cast<double>(m) * static_cast<double>(n) * static_cast<double>(k) < single_call_work) {
    return {m, n, 1, 1};
  }
  int64_t tm = m, tn = n;
  auto count = [&] { return ((m + tm - 1) / tm) * ((n + tn - 1) / tn); };
  while (count() < kWantTiles) {
    const bool can_rows = tm >= 2 * kMinRows, can_cols = tn >= 2 * kMinCols;
    if (!can_rows && !can_cols) break;
    if (can_cols && (!can_rows || tn >= 2 * tm)) {
      tn = (tn + 1) / 2;
    } else {
      tm = (tm + 1) / 2;
    }
  }
  return {tm, tn, (m + tm - 1) / tm, (n + tn - 1) / tn};
}

}  // namespace

namespace detail {

void gemm_serial(bool trans_a, bool trans_b, int64_t m, int64_t n, int64_t k, float alpha, const float* a,
                 int64_t lda, const float* b, int64_t ldb, float beta, float* c, int64_t ldc) {
  (void)num_threads();  // first use pins OpenBLAS to one thread
  if (m == 1) {
    // One row (a decode step): a matrix-vector product reads B once, where sgemm would first pack it.
    cblas_sgemv(CblasRowMajor, trans_b ? CblasNoTrans : CblasTrans, to_blas(trans_b ? "n" : "k", trans_b ? n : k),
                to_blas(trans_b ? "k" : "n", trans_b ? k : n), alpha, b, to_blas("ldb", ldb), a,
                to_blas("lda", trans_a ? lda : 1), beta, c, 1);
    return;
  }
  cblas_sgemm(CblasRowMajor, trans_a ? CblasTrans : CblasNoTrans, trans_b ? CblasTrans : CblasNoTrans,
              to_blas("m", m), to_blas("n", n), to_blas("k", k), alpha, a, to_blas("lda", lda), b,
              to_blas("ldb", ldb), beta, c, to_blas("ldc", ldc));
}

}  // namespace detail

void gemm(bool trans_a, bool trans_b, int64_t m, int64_t n, int64_t k, float alpha, const float* a, int64_t lda,
          const float* b, int64_t ldb, float beta, float* c, int64_t ldc) {
  constexpr const char* op = "gemm";
  detail::check_nonneg(op, "m", m);
  detail::check_nonneg(op, "n", n);
  detail::check_nonneg(op, "k", k);
  if (m == 0 || n == 0) return;
  detail::check_ptr(op, "c", c);
  if (ldc < n) detail::fail(op, "ldc " + std::to_string(ldc) + " < n " + std::to_string(n));
  if (k == 0) {
    // C = beta * C; beta == 0 clears C even if it held NaN (BLAS semantics).
    for (int64_t i = 0; i < m; ++i) {
      float* row = c + i * ldc;
      if (beta == 0.0f) {
        std::fill(row, row + n, 0.0f);
      } else {
        for (int64_t j = 0; j < n; ++j) row[j] *= beta;
      }
    }
    return;
  }
  detail::check_ptr(op, "a", a);
  detail::check_ptr(op, "b", b);
  const int64_t a_cols = trans_a ? m : k;
  const int64_t b_cols = trans_b ? k : n;
  if (lda < a_cols) detail::fail(op, "lda " + std::to_string(lda) + " < " + std::to_string(a_cols));
  if (ldb < b_cols) detail::fail(op, "ldb " + std::to_string(ldb) + " < " + std::to_string(b_cols));

  const Tiling t = tiling(m, n, k);
  const int64_t tiles = t.rows * t.cols;
  if (tiles == 1 || omp_get_level() > 0) {
    // Inside a caller's OpenMP region (active or not, so the choice never depends on the thread
    // count) the GEMM stays on the calling thread, untiled.
    detail::gemm_serial(trans_a, trans_b, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
    return;
  }
  const int threads = static_cast<int>(std::min<int64_t>(num_threads(), tiles));
#pragma omp parallel for schedule(dynamic, 1) num_threads(threads)
  for (int64_t tile = 0; tile < tiles; ++tile) {
    const int64_t i0 = (tile / t.cols) * t.tm, j0 = (tile % t.cols) * t.tn;
    const int64_t tm = std::min(t.tm, m - i0), tn = std::min(t.tn, n - j0);
    // Rows i0.. of op(A): row i0 of A, or column i0 of a transposed A; likewise columns j0.. of op(B).
    const float* a_tile = trans_a ? a + i0 : a + i0 * lda;
    const float* b_tile = trans_b ? b + j0 * ldb : b + j0;
    detail::gemm_serial(trans_a, trans_b, tm, tn, k, alpha, a_tile, lda, b_tile, ldb, beta, c + i0 * ldc + j0, ldc);
  }
}

void linear_forward(const float* x, const float* weight, const float* bias, float* y, int64_t rows,
                    int64_t in_features, int64_t out_features) {
  constexpr const char* op = "linear_forward";
  detail::check_nonneg(op, "rows", rows);
  detail::check_positive(op, "in_features", in_features);
  detail::check_positive(op, "out_features", out_features);
  if (rows == 0) return;
  detail::check_ptr(op, "x", x);
  detail::check_ptr(op, "weight", weight);
  detail::check_ptr(op, "y", y);
  float beta = 0.0f;
  if (bias != nullptr) {
#pragma omp parallel for schedule(static) num_threads(detail::threads_for(rows * out_features))
    for (int64_t i = 0; i < rows; ++i) {
      std::memcpy(y + i * out_features, bias, static_cast<size_t>(out_features) * sizeof(float));
    }
    beta = 1.0f;
  }
  gemm(false, true, rows, out_features, in_features, 1.0f, x, in_features, weight, in_features, beta, y,
       out_features);
}

void linear_backward(const float* x, const float* weight, const float* dy, int64_t rows, int64_t in_features,
                     int64_t out_features, float* dx, float* dweight, float* dbias, bool accumulate_dx) {
  constexpr const char* op = "linear_backward";
  detail::check_nonneg(op, "rows", rows);
  detail::check_positive(op, "in_features", in_features);
  detail::check_positive(op, "out_features", out_features);
  if (rows == 0) return;
  detail::check_ptr(op, "dy", dy);
  if (dx != nullptr) {
    detail::check_ptr(op, "weight", weight);
    gemm(false, false, rows, in_features, out_features, 1.0f, dy, out_features, weight, in_features,
         accumulate_dx ? 1.0f : 0.0f, dx, in_features);
  }
  if (dweight != nullptr) {
    detail::check_ptr(op, "x", x);
    gemm(true, false, out_features, in_features, rows, 1.0f, dy, out_features, x, in_features, 1.0f, dweight,
         in_features);
  }
  if (dbias != nullptr) detail::column_sum(dy, rows, out_features, dbias);
}

}  // namespace megaswift::kernels::cpu
