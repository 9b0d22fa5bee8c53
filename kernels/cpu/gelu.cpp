// GELU (exact and tanh approximation) forward and backward (see gelu.hpp).
#include <kernels/cpu/gelu.hpp>

#include <cmath>

#include <kernels/cpu/detail/checks.hpp>
#include <kernels/cpu/detail/parallel.hpp>

namespace megaswift::kernels::cpu {
namespace {

constexpr float kSqrt2OverPi = 0.7978845608028654f;  // sqrt(2/pi)
constexpr float kInvSqrt2 = 0.7071067811865476f;
constexpr float kInvSqrt2Pi = 0.3989422804014327f;  // 1/sqrt(2*pi)
constexpr float kCubic = 0.044715f;

void check(const char* op, int64_t n, const void* a, const void* b, const void* c) {
  detail::check_nonneg(op, "n", n);
  if (n == 0) return;
  detail::check_ptr(op, "x", a);
  detail::check_ptr(op, "dy/y", b);
  detail::check_ptr(op, "out", c);
}

}  // namespace

// 0.5*(1+erf(x/sqrt2)) is evaluated as 0.5*erfc(-x/sqrt2), and 0.5*(1+tanh(u)) as sigmoid(2u):
// the textbook forms cancel catastrophically for negative x (1 + (-0.9999994)) in float32.
void gelu_forward(const float* x, float* y, int64_t n, GeluApproximation approximation) {
  check("gelu_forward", n, x, y, y);
  if (approximation == GeluApproximation::tanh) {
#pragma omp parallel for schedule(static) num_threads(detail::threads_for(n * 16))
    for (int64_t i = 0; i < n; ++i) {
      const float v = x[i];
      const float u = kSqrt2OverPi * (v + kCubic * v * v * v);
      y[i] = v / (1.0f + std::exp(-2.0f * u));
    }
  } else {
#pragma omp parallel for schedule(static) num_threads(detail::threads_for(n * 16))
    for (int64_t i = 0; i < n; ++i) {
      const float v = x[i];
      y[i] = 0.5f * v * std::erfc(-v * kInvSqrt2);
    }
  }
}

void gelu_backward(const float* x, const float* dy, float* dx, int64_t n, GeluApproximation approximation) {
  check("gelu_backward", n, x, dy, dx);
  if (approximation == GeluApproximation::tanh) {
    // d/dx [x * s(2u)] = s + x * 2 s (1 - s) u',  s = sigmoid(2u) = 0.5 (1 + tanh u)
#pragma omp parallel for schedule(static) num_threads(detail::threads_for(n * 16))
    for (int64_t i = 0; i < n; ++i) {
      const float v = x[i];
      const float u = kSqrt2OverPi * (v + kCubic * v * v * v);
      const float s = 1.0f / (1.0f + std::exp(-2.0f * u));
      const float du = kSqrt2OverPi * (1.0f + 3.0f * kCubic * v * v);
      dx[i] = dy[i] * (s + 2.0f * v * s * (1.0f - s) * du);
    }
  } else {
#pragma omp parallel for schedule(static) num_threads(detail::threads_for(n * 16))
    for (int64_t i = 0; i < n; ++i) {
      const float v = x[i];
      const float cdf = 0.5f * std::erfc(-v * kInvSqrt2);
      const float pdf = kInvSqrt2Pi * std::exp(-0.5f * v * v);
      dx[i] = dy[i] * (cdf + v * pdf);
    }
  }
}

}  // namespace megaswift::kernels::cpu
