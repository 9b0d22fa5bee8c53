// Branch-free float exp that compilers vectorize (std::exp stays a scalar libm call without
// -ffast-math). Range reduction x = n*ln2 + r, |r| <= ln2/2, then a degree-6 minimax polynomial for
// e^r (the classic Cephes expf coefficients) and 2^n built in the exponent bits.
// Relative error below 2 ulp over the whole range; exp(x) = 0 for x < -87.33 (below FLT_MIN, where
// softmax terms are negligible anyway) and +inf for x > 88.72; NaN propagates.
#pragma once

#include <cstdint>
#include <cstring>

// Hot element-wise row functions are compiled for AVX-512, AVX2 and baseline x86-64 and picked at
// load time (the binaries must run on any x86-64, so no -march). Values per element are the same in
// every clone (no FMA contraction: ISO C++ mode keeps -ffp-contract=off); SIMD sums may group lanes
// differently per clone, which changes nothing within one machine.
#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__)
#define MSW_SIMD_CLONES __attribute__((target_clones("avx512f", "avx2", "default")))
#else
#define MSW_SIMD_CLONES
#endif

namespace megaswift::kernels::cpu::detail {

// Largest of x[0..n) (n >= 1), vectorizable (std::max's reference return is not).
inline float max_of(const float* x, int64_t n) {
  float m = x[0];
#if defined(_OPENMP)
#pragma omp simd reduction(max : m)
#endif
  for (int64_t i = 1; i < n; ++i) m = x[i] > m ? x[i] : m;
  return m;
}

inline float exp_fast(float x) {
  constexpr float kLog2e = 1.44269504088896341f;
  constexpr float kLn2Hi = 0.693359375f;
  constexpr float kLn2Lo = -2.12194440e-4f;
  constexpr float kMax = 88.7228391f;
  constexpr float kMin = -87.3365447f;
  const float xc = x > kMax ? kMax : (x < kMin ? kMin : x);
  // Round to nearest by the 1.5*2^23 trick: SSE2 has no vector floor/round, and a libm call per
  // element would stop the loop from vectorizing.
  constexpr float kRound = 12582912.0f;
  const float n = (xc * kLog2e + kRound) - kRound;
  float r = xc - n * kLn2Hi;
  r = r - n * kLn2Lo;
  float p = 1.9875691500e-4f;
  p = p * r + 1.3981999507e-3f;
  p = p * r + 8.3334519073e-3f;
  p = p * r + 4.1665795894e-2f;
  p = p * r + 1.6666665459e-1f;
  p = p * r + 5.0000001201e-1f;
  p = p * r * r + r + 1.0f;
  // 2^n for n in [-126, 128]; n = 128 (only at x = kMax) is split as 2^127 * 2 to stay finite.
  const int32_t ni = static_cast<int32_t>(n);
  const int32_t n1 = ni > 127 ? 127 : ni;
  uint32_t bits = static_cast<uint32_t>(n1 + 127) << 23;
  float scale;
  std::memcpy(&scale, &bits, sizeof scale);
  float result = p * scale * (ni > 127 ? 2.0f : 1.0f);
  result = x > kMax ? __builtin_inff() : result;
  result = x < kMin ? 0.0f : result;
  return x != x ? x : result;
}

}  // namespace megaswift::kernels::cpu::detail
