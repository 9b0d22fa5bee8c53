// The float conversions read_region applies (megaswift/ckpt/convert.hpp), against direct statements of the
// formats: a half's value from its fields, and round-to-nearest-even for float16 and bfloat16. (Not the
// compiler's _Float16: clang before 15 has none on x86-64, and the sanitizer build uses clang 14.)
#include <megaswift/ckpt/box.hpp>

#include <doctest/doctest.h>

#include <cmath>
#include <cstring>
#include <limits>
#include <random>

using namespace megaswift::ckpt;

namespace {

// A half's value by its definition: 5-bit exponent with bias 15, 10-bit mantissa, subnormals below 2^-14.
double half_value(uint16_t h) {
  const int exponent = (h >> 10) & 0x1f, mantissa = h & 0x3ff;
  double v;
  if (exponent == 0) {
    v = std::ldexp(mantissa, -24);
  } else if (exponent == 31) {
    v = mantissa ? std::numeric_limits<double>::quiet_NaN() : std::numeric_limits<double>::infinity();
  } else {
    v = std::ldexp(1024 + mantissa, exponent - 25);
  }
  return (h & 0x8000) ? -v : v;
}

// f32 -> f16 by the definition: the nearest half value, ties to the even mantissa; past the largest finite value
// (65504) IEEE rounds as if the next value were 2^16, which gives inf. Not for NaN.
uint16_t f16_reference(float f) {
  const uint16_t sign = std::signbit(f) ? 0x8000 : 0;
  const double x = std::fabs(static_cast<double>(f));
  if (std::isinf(x)) return sign | 0x7c00;
  // The largest finite magnitude code whose value is <= x (codes 0..0x7bff are increasing in value).
  uint16_t lo = 0, top = 0x7bff;
  while (lo < top) {
    const uint16_t mid = static_cast<uint16_t>((lo + top + 1) / 2);
    if (half_value(mid) <= x) lo = mid; else top = static_cast<uint16_t>(mid - 1);
  }
  const uint16_t hi = static_cast<uint16_t>(lo + 1);
  const double a = half_value(lo), b = hi == 0x7c00 ? 65536.0 : half_value(hi);
  if (x - a < b - x) return sign | lo;
  if (x - a > b - x) return sign | hi;
  return sign | ((lo & 1) ? hi : lo);
}

// bf16 by the definition: the nearest bf16 value, ties to the even mantissa; past the largest finite value
// IEEE rounds as if the next value were 2^128 (and then gives inf).
uint16_t bf16_reference(float f) {
  const uint32_t u = f32_to_bits(f);
  const uint16_t lo = static_cast<uint16_t>(u >> 16), hi = static_cast<uint16_t>(lo + 1);
  const double x = f, a = bf16_to_f32(lo);
  const double b = (hi & 0x7fff) == 0x7f80 ? std::copysign(std::ldexp(1.0, 128), x) : bf16_to_f32(hi);
  if (std::fabs(x - a) < std::fabs(b - x)) return lo;
  if (std::fabs(x - a) > std::fabs(b - x)) return hi;
  return (lo & 1) ? hi : lo;
}

}  // namespace

TEST_CASE("f16 -> f32 is exact for every half value and f32 -> f16 returns it (NaN stays NaN)") {
  for (uint32_t h = 0; h < 0x10000; ++h) {
    const float f = f16_to_f32(static_cast<uint16_t>(h));
    const double ref = half_value(static_cast<uint16_t>(h));
    if (std::isnan(f)) {
      CHECK(std::isnan(ref));
      CHECK((f32_to_f16(f) & 0x7c00) == 0x7c00);
      CHECK((f32_to_f16(f) & 0x3ff) != 0);
      continue;
    }
    CHECK(f == ref);
    CHECK(f32_to_f16(f) == h);
  }
}

TEST_CASE("f32 -> f16 rounds to nearest even on random and boundary values") {
  std::mt19937 rng(1);
  std::vector<uint32_t> bits = {0x477ff000u, 0x477fefffu, 0x33000000u, 0x33000001u, 0x387fe000u, 0x387ff000u,
                                0x38800000u, 0x7f800000u, 0xff800000u, 0x80000000u, 0x3f801000u, 0x3f803000u};
  for (int i = 0; i < 200000; ++i) {
    // Exponents around the half range, so subnormals, normals and overflow are all hit.
    const uint32_t e = 100 + rng() % 50;
    bits.push_back((rng() & 0x80000000u) | (e << 23) | (rng() & 0x7fffffu));
  }
  for (uint32_t u : bits) {
    const float f = bits_to_f32(u);
    INFO(u);
    CHECK(f32_to_f16(f) == f16_reference(f));
  }
}

TEST_CASE("f32 -> bf16 rounds to nearest even; bf16 -> f32 is exact") {
  std::mt19937 rng(2);
  for (int i = 0; i < 200000; ++i) {
    uint32_t u = rng();
    if ((u & 0x7f800000u) == 0x7f800000u) u &= ~0x40000000u;  // keep to finite values here
    const float f = bits_to_f32(u);
    INFO(u);
    CHECK(f32_to_bf16(f) == bf16_reference(f));
  }
  CHECK(f32_to_bf16(bits_to_f32(0x7f7fffffu)) == 0x7f80);  // FLT_MAX rounds to inf
  CHECK((f32_to_bf16(std::nanf("")) & 0x7fc0) == 0x7fc0);
  CHECK((f32_to_bf16(bits_to_f32(0x7f800001u)) & 0x7f) != 0);  // a signalling NaN stays NaN
  for (uint32_t h = 0; h < 0x10000; ++h)
    if (!std::isnan(bf16_to_f32(static_cast<uint16_t>(h)))) CHECK(f32_to_bf16(bf16_to_f32(static_cast<uint16_t>(h))) == h);
}

TEST_CASE("copy_box moves the intersection of two boxes and converts on the way") {
  // src: a (3, 4) f32 array holding 0..11; copy its box [1:3, 1:3] to (0, 2) of a (2, 4) bf16 array.
  float src[12];
  for (int i = 0; i < 12; ++i) src[i] = static_cast<float>(i);
  uint16_t dst[8] = {};
  copy_box(reinterpret_cast<const char*>(src), {3, 4}, {1, 1}, MSW_DTYPE_F32, reinterpret_cast<char*>(dst), {2, 4},
           {0, 2}, MSW_DTYPE_BF16, {2, 2});
  const float want[8] = {0, 0, 5, 6, 0, 0, 9, 10};
  for (int i = 0; i < 8; ++i) CHECK(bf16_to_f32(dst[i]) == want[i]);
  Dims lo, shape;
  CHECK(intersect({0, 4}, {4, 4}, {2, 2}, {4, 4}, lo, shape));
  CHECK(lo == Dims{2, 4});
  CHECK(shape == Dims{2, 2});
  CHECK_FALSE(intersect({0}, {2}, {2}, {2}, lo, shape));
}
