// RMSNorm forward and backward (see rmsnorm.hpp).
#include <kernels/cpu/rmsnorm.hpp>

#include <cmath>

#include <kernels/cpu/detail/checks.hpp>
#include <kernels/cpu/detail/parallel.hpp>

namespace megaswift::kernels::cpu {
namespace {

void check_sizes(const char* op, int64_t rows, int64_t dim) {
  detail::check_nonneg(op, "rows", rows);
  detail::check_positive(op, "dim", dim);
}

}  // namespace

void rmsnorm_forward(const float* x, const float* weight, float* y, float* rstd, int64_t rows, int64_t dim,
                     float eps, float weight_offset) {
  constexpr const char* op = "rmsnorm_forward";
  check_sizes(op, rows, dim);
  if (rows == 0) return;
  detail::check_ptr(op, "x", x);
  detail::check_ptr(op, "weight", weight);
  detail::check_ptr(op, "y", y);
  detail::check_ptr(op, "rstd", rstd);
#pragma omp parallel for schedule(static) num_threads(detail::threads_for(rows * dim))
  for (int64_t i = 0; i < rows; ++i) {
    const float* xi = x + i * dim;
    double ss = 0.0;
#pragma omp simd reduction(+ : ss)
    for (int64_t j = 0; j < dim; ++j) ss += static_cast<double>(xi[j]) * xi[j];
    const float r = static_cast<float>(1.0 / std::sqrt(ss / static_cast<double>(dim) + static_cast<double>(eps)));
    rstd[i] = r;
    float* yi = y + i * dim;
#pragma omp simd
    for (int64_t j = 0; j < dim; ++j) yi[j] = (weight_offset + weight[j]) * (xi[j] * r);
  }
}

void rmsnorm_backward(const float* x, const float* weight, const float* rstd, const float* dy, float* dx,
                      float* dweight, int64_t rows, int64_t dim, float weight_offset, bool accumulate_dx) {
  constexpr const char* op = "rmsnorm_backward";
  check_sizes(op, rows, dim);
  if (rows == 0) return;
  detail::check_ptr(op, "x", x);
  detail::check_ptr(op, "rstd", rstd);
  detail::check_ptr(op, "dy", dy);
  // dweight first: dx may overwrite dy in place.
  if (dweight != nullptr) {
    detail::column_reduce(
        rows, dim,
        [&](int64_t i, int64_t j0, int64_t j1, double* acc) {
          const float* xi = x + i * dim;
          const float* dyi = dy + i * dim;
          const float r = rstd[i];
#pragma omp simd
          for (int64_t j = j0; j < j1; ++j) acc[j - j0] += static_cast<double>(dyi[j] * (xi[j] * r));
        },
        dweight);
  }
  if (dx == nullptr) return;
  detail::check_ptr(op, "weight", weight);
#pragma omp parallel for schedule(static) num_threads(detail::threads_for(rows * dim))
  for (int64_t i = 0; i < rows; ++i) {
    const float* xi = x + i * dim;
    const float* dyi = dy + i * dim;
    const float r = rstd[i];
    double dot = 0.0;  // sum_j w'*dy*xhat
#pragma omp simd reduction(+ : dot)
    for (int64_t j = 0; j < dim; ++j) dot += static_cast<double>((weight_offset + weight[j]) * dyi[j]) * (xi[j] * r);
    const float c = static_cast<float>(dot / static_cast<double>(dim));
    float* dxi = dx + i * dim;
    if (accumulate_dx) {
#pragma omp simd
      for (int64_t j = 0; j < dim; ++j) dxi[j] += r * ((weight_offset + weight[j]) * dyi[j] - (xi[j] * r) * c);
    } else {
#pragma omp simd
      for (int64_t j = 0; j < dim; ++j) dxi[j] = r * ((weight_offset + weight[j]) * dyi[j] - (xi[j] * r) * c);
    }
  }
}

}  // namespace megaswift::kernels::cpu
