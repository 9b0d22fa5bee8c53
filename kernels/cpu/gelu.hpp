// GELU, exact (erf) and tanh approximation (PyTorch's approximate="none" / "tanh").
//
//   exact:  y = 0.5 * x * (1 + erf(x / sqrt(2)))
//   tanh:   y = 0.5 * x * (1 + tanh(sqrt(2/pi) * (x + 0.044715 x^3)))
//   x, y, dy, dx: n elements, contiguous (any shape flattened)
//   backward: dx = dy * gelu'(x), written (=). y may alias x; dx may alias dy.
#pragma once

#include <cstdint>

namespace megaswift::kernels::cpu {

enum class GeluApproximation { none, tanh };

void gelu_forward(const float* x, float* y, int64_t n, GeluApproximation approximation);

void gelu_backward(const float* x, const float* dy, float* dx, int64_t n, GeluApproximation approximation);

}  // namespace megaswift::kernels::cpu
