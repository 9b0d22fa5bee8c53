// LayerNorm forward and backward (see layernorm.hpp).
#include <kernels/cpu/layernorm.hpp>

#include <cmath>

#include <kernels/cpu/detail/checks.hpp>
#include <kernels/cpu/detail/parallel.hpp>

namespace megaswift::kernels::cpu {

void layernorm_forward(const float* x, const float* weight, const float* bias, float* y, float* mean, float* rstd,
                       int64_t rows, int64_t dim, float eps) {
  constexpr const char* op = "layernorm_forward";
  detail::check_nonneg(op, "rows", rows);
  detail::check_positive(op, "dim", dim);
  if (rows == 0) return;
  detail::check_ptr(op, "x", x);
  detail::check_ptr(op, "weight", weight);
  detail::check_ptr(op, "y", y);
  detail::check_ptr(op, "mean", mean);
  detail::check_ptr(op, "rstd", rstd);
#pragma omp parallel for schedule(static) num_threads(detail::threads_for(rows * dim))
  for (int64_t i = 0; i < rows; ++i) {
    const float* xi = x + i * dim;
    double s = 0.0;
#pragma omp simd reduction(+ : s)
    for (int64_t j = 0; j < dim; ++j) s += xi[j];
    const double mu = s / static_cast<double>(dim);
    double ss = 0.0;
#pragma omp simd reduction(+ : ss)
    for (int64_t j = 0; j < dim; ++j) ss += (xi[j] - mu) * (xi[j] - mu);
    const float m = static_cast<float>(mu);
    const float r = static_cast<float>(1.0 / std::sqrt(ss / static_cast<double>(dim) + static_cast<double>(eps)));
    mean[i] = m;
    rstd[i] = r;
    float* yi = y + i * dim;
    if (bias != nullptr) {
#pragma omp simd
      for (int64_t j = 0; j < dim; ++j) yi[j] = (xi[j] - m) * r * weight[j] + bias[j];
    } else {
#pragma omp simd
      for (int64_t j = 0; j < dim; ++j) yi[j] = (xi[j] - m) * r * weight[j];
    }
  }
}

void layernorm_backward(const float* x, const float* weight, const float* mean, const float* rstd, const float* dy,
                        float* dx, float* dweight, float* dbias, int64_t rows, int64_t dim) {
  constexpr const char* op = "layernorm_backward";
  detail::check_nonneg(op, "rows", rows);
  detail::check_positive(op, "dim", dim);
  if (rows == 0) return;
  detail::check_ptr(op, "x", x);
  detail::check_ptr(op, "mean", mean);
  detail::check_ptr(op, "rstd", rstd);
  detail::check_ptr(op, "dy", dy);
  // Parameter gradients first: dx may overwrite dy in place.
  if (dweight != nullptr) {
    detail::column_reduce(
        rows, dim,
        [&](int64_t i, int64_t j0, int64_t j1, double* acc) {
          const float* xi = x + i * dim;
          const float* dyi = dy + i * dim;
          const float m = mean[i], r = rstd[i];
#pragma omp simd
          for (int64_t j = j0; j < j1; ++j) acc[j - j0] += static_cast<double>(dyi[j] * ((xi[j] - m) * r));
        },
        dweight);
  }
  if (dbias != nullptr) detail::column_sum(dy, rows, dim, dbias);
  if (dx == nullptr) return;
  detail::check_ptr(op, "weight", weight);
#pragma omp parallel for schedule(static) num_threads(detail::threads_for(rows * dim))
  for (int64_t i = 0; i < rows; ++i) {
    const float* xi = x + i * dim;
    const float* dyi = dy + i * dim;
    const float m = mean[i], r = rstd[i];
    double sg = 0.0, sgx = 0.0;
#pragma omp simd reduction(+ : sg, sgx)
    for (int64_t j = 0; j < dim; ++j) {
      const float g = weight[j] * dyi[j];
      sg += g;
      sgx += static_cast<double>(g) * ((xi[j] - m) * r);
    }
    const float mg = static_cast<float>(sg / static_cast<double>(dim));
    const float mgx = static_cast<float>(sgx / static_cast<double>(dim));
    float* dxi = dx + i * dim;
#pragma omp simd
    for (int64_t j = 0; j < dim; ++j) dxi[j] = r * (weight[j] * dyi[j] - mg - ((xi[j] - m) * r) * mgx);
  }
}

}  // namespace megaswift::kernels::cpu
