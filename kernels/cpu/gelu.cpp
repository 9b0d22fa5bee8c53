// GELU (exact and tanh approximation) forward and backward (see gelu.hpp).
#include <kernels/cpu/gelu.hpp>

#include <cmath>
#include <numbers>

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

void gelu_forward(const float* x, float* y, int64_t n, GeluApproximation approximation) {
  check("gelu_forward", n, x, y, y);
  if (approximation == GeluApproximation::tanh) {
#pragma omp parallel for schedule(static) num_threads(detail::threads_for(n * 16))
    for (int64_t i = 0; i < n; ++i) {
      const float v = x[i];
      y[i] = 0.5f * v * (1.0f + std::tanh(kSqrt2OverPi * (v + kCubic * v * v * v)));
    }
  } else {
#pragma omp parallel for schedule(static) num_threads(detail::threads_for(n * 16))
    for (int64_t i = 0; i < n; ++i) {
      const float v = x[i];
      y[i] = 0.5f * v * (1.0f + std::erf(v * kInvSqrt2));
    }
  }
}

void gelu_backward(const float* x, const float* dy, float* dx, int64_t n, GeluApproximation approximation) {
  check("gelu_backward", n, x, dy, dx);
  if (approximation == GeluApproximation::tanh) {
#pragma omp parallel for schedule(static) num_threads(detail::threads_for(n * 16))
    for (int64_t i = 0; i < n; ++i) {
      const float v = x[i];
      const float t = std::tanh(kSqrt2OverPi * (v + kCubic * v * v * v));
      const float dinner = kSqrt2OverPi * (1.0f + 3.0f * kCubic * v * v);
      dx[i] = dy[i] * (0.5f * (1.0f + t) + 0.5f * v * (1.0f - t * t) * dinner);
    }
  } else {
#pragma omp parallel for schedule(static) num_threads(detail::threads_for(n * 16))
    for (int64_t i = 0; i < n; ++i) {
      const float v = x[i];
      const float cdf = 0.5f * (1.0f + std::erf(v * kInvSqrt2));
      const float pdf = kInvSqrt2Pi * std::exp(-0.5f * v * v);
      dx[i] = dy[i] * (cdf + v * pdf);
    }
  }
}

}  // namespace megaswift::kernels::cpu
