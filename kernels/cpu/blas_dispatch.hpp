// Which OpenBLAS kernel family a CPU should run when OpenBLAS's own detection does not know it.
//
// OpenBLAS (DYNAMIC_ARCH, as Debian builds it) picks its GEMM kernels from the CPU's vendor, family and model
// numbers. A CPU newer than the library (Debian 12's 0.3.21 on a Sapphire Rapids VM, measured on the GPU host) falls
// back to "Prescott", the SSE3 kernels, and runs GEMMs several times slower although the CPU has AVX-512. The choice
// is made in OpenBLAS's load-time constructor from OPENBLAS_CORETYPE, so the front ends set that variable and re-run
// themselves once (host/cli) when this says a better family fits.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace megaswift::kernels::cpu {

struct CpuFeatures {
  bool avx512 = false;  // AVX-512 F, BW and VL (OpenBLAS's SkylakeX kernels)
  bool avx2_fma = false;
};

// The family to force, or nullopt when OpenBLAS's choice (`detected`, openblas_get_corename()) is already one that
// uses the CPU's vector width, or when the user set OPENBLAS_CORETYPE (`user_set`).
std::optional<std::string> blas_coretype_for(std::string_view detected, const CpuFeatures& cpu, bool user_set);

// The same for this process: OpenBLAS's detected family, this CPU's features, the environment.
std::optional<std::string> better_blas_coretype();

// OpenBLAS's kernel family in use (for logs).
std::string blas_corename();

}  // namespace megaswift::kernels::cpu
