// Residual add and element-wise gradient helpers (see residual.hpp).
#include <kernels/cpu/residual.hpp>

#include <kernels/cpu/detail/checks.hpp>
#include <kernels/cpu/detail/parallel.hpp>

namespace megaswift::kernels::cpu {

void residual_add(const float* a, const float* b, float* out, int64_t n, float alpha) {
  constexpr const char* op = "residual_add";
  detail::check_nonneg(op, "n", n);
  if (n == 0) return;
  detail::check_ptr(op, "a", a);
  detail::check_ptr(op, "b", b);
  detail::check_ptr(op, "out", out);
#pragma omp parallel for simd schedule(static) num_threads(detail::threads_for(n))
  for (int64_t i = 0; i < n; ++i) out[i] = a[i] + alpha * b[i];
}

void accumulate(float* dst, const float* src, int64_t n) {
  constexpr const char* op = "accumulate";
  detail::check_nonneg(op, "n", n);
  if (n == 0) return;
  detail::check_ptr(op, "dst", dst);
  detail::check_ptr(op, "src", src);
#pragma omp parallel for simd schedule(static) num_threads(detail::threads_for(n))
  for (int64_t i = 0; i < n; ++i) dst[i] += src[i];
}

void scale(float* x, int64_t n, float s) {
  constexpr const char* op = "scale";
  detail::check_nonneg(op, "n", n);
  if (n == 0) return;
  detail::check_ptr(op, "x", x);
#pragma omp parallel for simd schedule(static) num_threads(detail::threads_for(n))
  for (int64_t i = 0; i < n; ++i) x[i] *= s;
}

}  // namespace megaswift::kernels::cpu
