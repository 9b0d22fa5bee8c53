// SwiGLU forward and backward (see swiglu.hpp).
#include <kernels/cpu/swiglu.hpp>

#include <string>

#include <kernels/cpu/detail/checks.hpp>
#include <kernels/cpu/detail/parallel.hpp>
#include <kernels/cpu/detail/vmath.hpp>

namespace megaswift::kernels::cpu {
namespace {

inline float sigmoid(float x) { return 1.0f / (1.0f + detail::exp_fast(-x)); }

void check(const char* op, int64_t ld_in, int64_t rows, int64_t cols) {
  detail::check_nonneg(op, "rows", rows);
  detail::check_positive(op, "cols", cols);
  if (ld_in < cols) {
    detail::fail(op, "ld_in " + std::to_string(ld_in) + " is smaller than cols " + std::to_string(cols));
  }
}

MSW_SIMD_CLONES void forward_row(const float* g, const float* u, float* o, int64_t cols) {
#pragma omp simd
  for (int64_t j = 0; j < cols; ++j) o[j] = g[j] * sigmoid(g[j]) * u[j];
}

MSW_SIMD_CLONES void backward_row(const float* g, const float* u, const float* d, float* dg, float* du, int64_t cols) {
#pragma omp simd
  for (int64_t j = 0; j < cols; ++j) {
    const float x = g[j];
    const float s = sigmoid(x);
    const float uj = u[j];
    dg[j] = d[j] * uj * (s * (1.0f + x * (1.0f - s)));
    du[j] = d[j] * (x * s);
  }
}

}  // namespace

void swiglu_forward(const float* gate, const float* up, int64_t ld_in, float* out, int64_t rows, int64_t cols) {
  constexpr const char* op = "swiglu_forward";
  check(op, ld_in, rows, cols);
  if (rows == 0) return;
  detail::check_ptr(op, "gate", gate);
  detail::check_ptr(op, "up", up);
  detail::check_ptr(op, "out", out);
#pragma omp parallel for schedule(static) num_threads(detail::threads_for(rows * cols * 8))
  for (int64_t i = 0; i < rows; ++i) {
    forward_row(gate + i * ld_in, up + i * ld_in, out + i * cols, cols);
  }
}

void swiglu_backward(const float* gate, const float* up, int64_t ld_in, const float* dout, float* dgate,
                     float* dup, int64_t rows, int64_t cols) {
  constexpr const char* op = "swiglu_backward";
  check(op, ld_in, rows, cols);
  if (rows == 0) return;
  detail::check_ptr(op, "gate", gate);
  detail::check_ptr(op, "up", up);
  detail::check_ptr(op, "dout", dout);
  detail::check_ptr(op, "dgate", dgate);
  detail::check_ptr(op, "dup", dup);
#pragma omp parallel for schedule(static) num_threads(detail::threads_for(rows * cols * 8))
  for (int64_t i = 0; i < rows; ++i) {
    backward_row(gate + i * ld_in, up + i * ld_in, dout + i * cols, dgate + i * ld_in, dup + i * ld_in, cols);
  }
}

}  // namespace megaswift::kernels::cpu
