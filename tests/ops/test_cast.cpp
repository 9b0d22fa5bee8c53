// Casts between float32, bf16 and fp16: bit-exact round-to-nearest-even checked exhaustively over
// every 16-bit value and every midpoint between neighbours, plus NaN, infinities and subnormals.
#include <doctest/doctest.h>

#include <bit>
#include <cmath>
#include <cstdint>
#include <limits>
#include <vector>

#include <kernels/cpu/cast.hpp>

namespace cpu = megaswift::kernels::cpu;

namespace {

bool fp16_is_nan(uint16_t h) { return (h & 0x7C00u) == 0x7C00u && (h & 0x03FFu) != 0; }
bool bf16_is_nan(uint16_t b) { return (b & 0x7F80u) == 0x7F80u && (b & 0x007Fu) != 0; }
float from_bits(uint32_t b) { return std::bit_cast<float>(b); }

// Independent fp16 decoder: sign * 2^(e-15) * (1 + m/1024), subnormals m * 2^-24, in double.
double fp16_value(uint16_t h) {
  const int e = (h >> 10) & 0x1F, m = h & 0x3FF;
  const double s = (h & 0x8000) ? -1.0 : 1.0;
  if (e == 0) return s * std::ldexp(m, -24);
  if (e == 31) return m ? std::numeric_limits<double>::quiet_NaN() : s * std::numeric_limits<double>::infinity();
  return s * std::ldexp(1024 + m, e - 25);
}

}  // namespace

TEST_CASE("every fp16 value widens exactly and narrows back to the same bits") {
  for (uint32_t h = 0; h <= 0xFFFF; ++h) {
    const auto bits = static_cast<uint16_t>(h);
    const float f = cpu::fp16_to_float(bits);
    if (fp16_is_nan(bits)) {
      CHECK(std::isnan(f));
      CHECK(fp16_is_nan(cpu::float_to_fp16(f)));
      continue;
    }
    REQUIRE(static_cast<double>(f) == fp16_value(bits));
    REQUIRE(cpu::float_to_fp16(f) == bits);
  }
}

TEST_CASE("every bf16 value widens exactly and narrows back to the same bits") {
  for (uint32_t b = 0; b <= 0xFFFF; ++b) {
    const auto bits = static_cast<uint16_t>(b);
    const float f = cpu::bf16_to_float(bits);
    REQUIRE(std::bit_cast<uint32_t>(f) == (b << 16));
    if (bf16_is_nan(bits)) {
      CHECK(bf16_is_nan(cpu::float_to_bf16(f)));
      continue;
    }
    REQUIRE(cpu::float_to_bf16(f) == bits);
  }
}

TEST_CASE("float to fp16 rounds midpoints to the even neighbour and anything off the midpoint to the nearest") {
  // Every pair of adjacent finite positive fp16 values (subnormals included), mirrored for negatives.
  for (uint32_t lo = 0; lo < 0x7BFF; ++lo) {
    const auto a = static_cast<uint16_t>(lo), b = static_cast<uint16_t>(lo + 1);
    const double mid = 0.5 * (fp16_value(a) + fp16_value(b));
    const auto mid_f = static_cast<float>(mid);
    REQUIRE(static_cast<double>(mid_f) == mid);  // 12 significant bits fit a float
    const uint16_t even = (a & 1u) ? b : a;
    REQUIRE(cpu::float_to_fp16(mid_f) == even);
    REQUIRE(cpu::float_to_fp16(-mid_f) == (even | 0x8000u));
    REQUIRE(cpu::float_to_fp16(std::nextafter(mid_f, 0.0f)) == a);
    REQUIRE(cpu::float_to_fp16(std::nextafter(mid_f, 1e9f)) == b);
  }
}

TEST_CASE("float to bf16 rounds midpoints to the even neighbour and anything off the midpoint to the nearest") {
  for (uint32_t lo = 0; lo < 0x7F7F; lo += 1) {
    const float a = cpu::bf16_to_float(static_cast<uint16_t>(lo));
    const float b = cpu::bf16_to_float(static_cast<uint16_t>(lo + 1));
    const uint32_t mid_bits = (lo << 16) | 0x8000u;  // exactly halfway in the float's low half
    const float mid = from_bits(mid_bits);
    REQUIRE(static_cast<double>(mid) == 0.5 * (static_cast<double>(a) + static_cast<double>(b)));
    const uint16_t even = (lo & 1u) ? static_cast<uint16_t>(lo + 1) : static_cast<uint16_t>(lo);
    REQUIRE(cpu::float_to_bf16(mid) == even);
    REQUIRE(cpu::float_to_bf16(-mid) == (even | 0x8000u));
    REQUIRE(cpu::float_to_bf16(from_bits(mid_bits - 1)) == lo);
    REQUIRE(cpu::float_to_bf16(from_bits(mid_bits + 1)) == lo + 1);
  }
}

TEST_CASE("fp16 narrowing overflows to inf at 65520 and handles subnormal ties and signed zero and inf and NaN") {
  CHECK(cpu::float_to_fp16(65504.0f) == 0x7BFF);
  CHECK(cpu::float_to_fp16(std::nextafter(65520.0f, 0.0f)) == 0x7BFF);
  CHECK(cpu::float_to_fp16(65520.0f) == 0x7C00);  // tie between 65504 (odd) and 65536 (inf): even is inf
  CHECK(cpu::float_to_fp16(-70000.0f) == 0xFC00);
  CHECK(cpu::float_to_fp16(std::numeric_limits<float>::max()) == 0x7C00);
  CHECK(cpu::float_to_fp16(std::numeric_limits<float>::infinity()) == 0x7C00);
  CHECK(cpu::float_to_fp16(-std::numeric_limits<float>::infinity()) == 0xFC00);
  CHECK(cpu::float_to_fp16(0x1p-24f) == 0x0001);                  // smallest subnormal
  CHECK(cpu::float_to_fp16(0x1p-25f) == 0x0000);                  // tie with 0: even
  CHECK(cpu::float_to_fp16(std::nextafter(0x1p-25f, 1.0f)) == 0x0001);
  CHECK(cpu::float_to_fp16(3 * 0x1p-25f) == 0x0002);              // tie between 1 and 2 ulps: even
  CHECK(cpu::float_to_fp16(-0x1p-26f) == 0x8000);                 // underflow keeps the sign
  CHECK(cpu::float_to_fp16(-0.0f) == 0x8000);
  CHECK(cpu::float_to_fp16(std::numeric_limits<float>::denorm_min()) == 0x0000);
  CHECK(cpu::float_to_fp16(std::nextafter(0x1p-14f, 0.0f)) == 0x0400);  // rounds up into the smallest normal
  CHECK(fp16_is_nan(cpu::float_to_fp16(std::numeric_limits<float>::quiet_NaN())));
  CHECK(fp16_is_nan(cpu::float_to_fp16(from_bits(0x7F800001u))));  // payload only in bits fp16 drops
  CHECK((cpu::float_to_fp16(from_bits(0xFFC00000u)) & 0x8000u) != 0);  // negative NaN keeps its sign
  CHECK(std::isnan(cpu::fp16_to_float(0x7E00)));
  CHECK(cpu::fp16_to_float(0x7C00) == std::numeric_limits<float>::infinity());
  CHECK(std::signbit(cpu::fp16_to_float(0x8000)));
}

TEST_CASE("bf16 narrowing overflows to inf and rounds float subnormals and never turns NaN into inf") {
  CHECK(cpu::float_to_bf16(std::numeric_limits<float>::max()) == 0x7F80);
  CHECK(cpu::float_to_bf16(-std::numeric_limits<float>::max()) == 0xFF80);
  CHECK(cpu::float_to_bf16(std::numeric_limits<float>::infinity()) == 0x7F80);
  CHECK(cpu::float_to_bf16(from_bits(0x00008000u)) == 0x0000);  // subnormal tie to even (0)
  CHECK(cpu::float_to_bf16(from_bits(0x00018000u)) == 0x0002);  // subnormal tie to even (2)
  CHECK(cpu::float_to_bf16(from_bits(0x00008001u)) == 0x0001);
  CHECK(cpu::float_to_bf16(-0.0f) == 0x8000);
  CHECK(bf16_is_nan(cpu::float_to_bf16(from_bits(0x7F800001u))));  // truncation alone would give inf
  CHECK(bf16_is_nan(cpu::float_to_bf16(from_bits(0xFF800001u))));
  CHECK((cpu::float_to_bf16(from_bits(0xFF800001u)) & 0x8000u) != 0);
  CHECK(cpu::float_to_bf16(1.0f) == 0x3F80);
}

TEST_CASE("array casts agree with the scalar casts and bf16 <-> fp16 rounds once through float") {
  std::vector<float> f;
  for (uint32_t h = 0; h <= 0xFFFF; h += 7) f.push_back(cpu::fp16_to_float(static_cast<uint16_t>(h)) * 1.37f);
  const auto n = static_cast<int64_t>(f.size());
  std::vector<uint16_t> h16(n), b16(n), h_from_b(n), b_from_h(n);
  std::vector<float> back(n);
  cpu::cast_f32_to_f16(f.data(), h16.data(), n);
  cpu::cast_f32_to_bf16(f.data(), b16.data(), n);
  for (int64_t i = 0; i < n; ++i) {
    REQUIRE(h16[i] == cpu::float_to_fp16(f[i]));
    REQUIRE(b16[i] == cpu::float_to_bf16(f[i]));
  }
  cpu::cast_f16_to_f32(h16.data(), back.data(), n);
  for (int64_t i = 0; i < n; ++i) REQUIRE(std::bit_cast<uint32_t>(back[i]) == std::bit_cast<uint32_t>(cpu::fp16_to_float(h16[i])));
  cpu::cast_bf16_to_f32(b16.data(), back.data(), n);
  for (int64_t i = 0; i < n; ++i) REQUIRE(std::bit_cast<uint32_t>(back[i]) == std::bit_cast<uint32_t>(cpu::bf16_to_float(b16[i])));
  cpu::cast_bf16_to_f16(b16.data(), h_from_b.data(), n);
  cpu::cast_f16_to_bf16(h16.data(), b_from_h.data(), n);
  for (int64_t i = 0; i < n; ++i) {
    REQUIRE(h_from_b[i] == cpu::float_to_fp16(cpu::bf16_to_float(b16[i])));
    REQUIRE(b_from_h[i] == cpu::float_to_bf16(cpu::fp16_to_float(h16[i])));
  }
}
