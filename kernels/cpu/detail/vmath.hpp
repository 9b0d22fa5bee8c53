// Branch-free float exp that compilers vectorize (std::exp stays a scalar libm call without
// -ffast-math). Range reduction x = n*ln2 + r, |r| <= ln2/2, then a degree-6 minimax polynomial for
// e^r (the classic Cephes expf coefficients) and 2^n built in the exponent bits.
// Relative error below 2 ulp over the whole range; exp(x) = 0 for x < -87.33 (below FLT_MIN, where
// softmax terms are negligible anyway) and +inf for x > 88.72; NaN propagates.
#pragma once

#include <cstdint>
#include <cstring>

namespace megaswift::kernels::cpu::detail {

inline float exp_fast(float x) {
  constexpr float kLog2e = 1.44269504088896341f;
  constexpr float kLn2Hi = 0.693359375f;
  constexpr float kLn2Lo = -2.12194440e-4f;
  constexpr float kMax = 88.7228391f;
  constexpr float kMin = -87.3365447f;
  const float xc = x > kMax ? kMax : (x < kMin ? kMin : x);
  const float n = __builtin_floorf(xc * kLog2e + 0.5f);
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
