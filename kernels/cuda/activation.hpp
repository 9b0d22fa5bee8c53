// SwiGLU and GELU (exact erf and tanh approximation), forward and backward, with the formulas of
// kernels/cpu/swiglu.cpp and gelu.cpp in fp32 (the CPU's exp is its own polynomial within 2 ulp of expf, erfc is
// libm's: the results agree to a few ulp of fp32). All tensors of one call share `dtype` and are dense.
#pragma once

#include <kernels/cuda/launch.hpp>

#include <cstdint>

namespace megaswift::kernels::cuda {

// x (rows, 2*cols) = [gate | up] per row -> out (rows, cols) = silu(gate) * up.
void swiglu_forward(const void* x, void* out, Dtype dtype, int64_t rows, int64_t cols, Stream stream);
// dx (rows, 2*cols) = [dgate | dup] from x and dout (rows, cols), written. dx may alias x (each thread reads its
// element's gate and up before writing their gradients).
void swiglu_backward(const void* x, const void* dout, void* dx, Dtype dtype, int64_t rows, int64_t cols, Stream stream);

// y = gelu(x) over n elements; tanh selects the tanh approximation. y may alias x.
void gelu_forward(const void* x, void* y, Dtype dtype, int64_t n, bool tanh, Stream stream);
// dx = dy * gelu'(x), written; dx may alias dy.
void gelu_backward(const void* x, const void* dy, void* dx, Dtype dtype, int64_t n, bool tanh, Stream stream);

}  // namespace megaswift::kernels::cuda
