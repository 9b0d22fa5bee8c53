// The gated GELU (tanh approximation) that Gemma's MLP applies, registered as this plugin's own op.
//
// Gemma computes down(gelu_tanh(gate(x)) * up(x)). The fused fc1 projection writes each row as
// [gate | up] (Megatron's layout, the same as SwiGLU's), so the op is SwiGLU with GELU in place of SiLU:
//   forward:  out[r, f] = gelu(x[r, f]) * x[r, F + f]                  x (R, 2F), out (R, F)
//   backward: dx[r, f] = dout * up * gelu'(gate),  dx[r, F + f] = dout * gelu(gate)
// Registered through msw_host_api.register_op under the names below for the CPU, so the host (and any
// other plugin) can call it by name; a CUDA implementation can be registered under the same names later
// without touching the model code.
#pragma once

#include <megaswift/c/host.h>
#include <megaswift/c/tensor.h>

namespace gemma {

inline constexpr const char* kGegluForward = "gemma.geglu_forward";
inline constexpr const char* kGegluBackward = "gemma.geglu_backward";

// The args of both ops (MSW_ARGS_HEADER first, so the op can grow like the SDK's own).
struct GegluArgs {
  MSW_ARGS_HEADER;
  msw_tensor x;     // (R, 2F) [gate | up]
  msw_tensor out;   // forward: (R, F)
  msw_tensor dout;  // backward: (R, F)
  msw_tensor dx;    // backward: (R, 2F), written
};

// Registers both ops for the CPU once per process (later calls do nothing).
void register_geglu_ops();

}  // namespace gemma
