// Deterministic sum of squares (see reduce.hpp).
#include <kernels/cpu/reduce.hpp>

#include <algorithm>
#include <vector>

#include <kernels/cpu/detail/checks.hpp>
#include <kernels/cpu/detail/parallel.hpp>

namespace megaswift::kernels::cpu {

double sum_squares(const float* x, int64_t n) {
  constexpr const char* op = "sum_squares";
  detail::check_nonneg(op, "n", n);
  if (n == 0) return 0.0;
  detail::check_ptr(op, "x", x);
  constexpr int64_t kChunk = 4096;
  const int64_t n_chunks = (n + kChunk - 1) / kChunk;
  std::vector<double> partial(static_cast<size_t>(n_chunks));
#pragma omp parallel for schedule(static) num_threads(detail::threads_for(n))
  for (int64_t c = 0; c < n_chunks; ++c) {
    const int64_t i0 = c * kChunk, i1 = std::min(n, i0 + kChunk);
    double s = 0.0;
#pragma omp simd reduction(+ : s)
    for (int64_t i = i0; i < i1; ++i) s += static_cast<double>(x[i]) * x[i];
    partial[static_cast<size_t>(c)] = s;
  }
  double total = 0.0;
  for (double p : partial) total += p;
  return total;
}

}  // namespace megaswift::kernels::cpu
