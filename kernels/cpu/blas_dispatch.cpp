#include <kernels/cpu/blas_dispatch.hpp>

#include <cblas.h>

#include <array>
#include <cctype>
#include <cstdlib>

namespace megaswift::kernels::cpu {
namespace {

std::string lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

bool one_of(const std::string& name, std::initializer_list<const char*> names) {
  for (const char* n : names)
    if (name == n) return true;
  return false;
}

}  // namespace

std::optional<std::string> blas_coretype_for(std::string_view detected, const CpuFeatures& cpu, bool user_set) {
  if (user_set) return std::nullopt;
  const std::string name = lower(detected);
  // OpenBLAS's x86-64 families that use AVX-512, and those that use AVX2 + FMA (lower-case corenames).
  const bool uses_avx512 = one_of(name, {"skylakex", "cooperlake", "sapphirerapids"});
  const bool uses_avx2 = uses_avx512 || one_of(name, {"haswell", "zen", "skylake"});
  if (cpu.avx512 && !uses_avx512) return "SkylakeX";
  if (cpu.avx2_fma && !uses_avx2) return "Haswell";
  return std::nullopt;
}

std::string blas_corename() {
  const char* name = openblas_get_corename();
  return name ? name : "unknown";
}

std::optional<std::string> better_blas_coretype() {
  CpuFeatures cpu;
#if defined(__x86_64__) || defined(__i386__)
  __builtin_cpu_init();
  cpu.avx512 = __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
               __builtin_cpu_supports("avx512vl");
  cpu.avx2_fma = __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
#endif
  const char* env = std::getenv("OPENBLAS_CORETYPE");
  return blas_coretype_for(blas_corename(), cpu, env && *env);
}

}  // namespace megaswift::kernels::cpu
