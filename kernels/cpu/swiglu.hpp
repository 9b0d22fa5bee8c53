// SwiGLU: out = silu(gate) * up, silu(x) = x * sigmoid(x) (Llama/Qwen MLP; Megatron's fc1 GLU).
//
//   forward:  out[i,j] = silu(gate[i,j]) * up[i,j]
//             gate, up (R, F) read with row stride ld_in; out (R, F) contiguous
//   backward: dgate = dout * up * sigmoid(gate) * (1 + gate * (1 - sigmoid(gate)))
//             dup   = dout * silu(gate)
//             dgate, dup written (=) with the same row stride ld_in as gate and up
// Megatron's fused fc1 output (R, 2F) = [gate | up] per row is gate = fc1, up = fc1 + F, ld_in = 2F,
// and its gradient lands in the same fused layout (dgate = dfc1, dup = dfc1 + F). Separate gate/up
// buffers use ld_in = F. Outputs must not alias inputs.
#pragma once

#include <cstdint>

namespace megaswift::kernels::cpu {

void swiglu_forward(const float* gate, const float* up, int64_t ld_in, float* out, int64_t rows, int64_t cols);

void swiglu_backward(const float* gate, const float* up, int64_t ld_in, const float* dout, float* dgate,
                     float* dup, int64_t rows, int64_t cols);

}  // namespace megaswift::kernels::cpu
