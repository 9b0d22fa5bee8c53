// Casts between float32, bf16 and fp16, bit-exact round-to-nearest-even (see cast.hpp).
#include <kernels/cpu/cast.hpp>

#include <bit>

#include <kernels/cpu/detail/checks.hpp>
#include <kernels/cpu/detail/parallel.hpp>

namespace megaswift::kernels::cpu {

uint16_t float_to_bf16(float x) {
  const uint32_t bits = std::bit_cast<uint32_t>(x);
  if ((bits & 0x7FFFFFFFu) > 0x7F800000u) {
    // NaN: keep sign and the top payload bits, set the quiet bit so truncation cannot make an inf.
    return static_cast<uint16_t>((bits >> 16) | 0x0040u);
  }
  const uint32_t lsb = (bits >> 16) & 1u;
  return static_cast<uint16_t>((bits + 0x7FFFu + lsb) >> 16);
}

float bf16_to_float(uint16_t bits) { return std::bit_cast<float>(static_cast<uint32_t>(bits) << 16); }

uint16_t float_to_fp16(float x) {
  const uint32_t bits = std::bit_cast<uint32_t>(x);
  const uint32_t sign = (bits >> 16) & 0x8000u;
  const uint32_t mag = bits & 0x7FFFFFFFu;
  if (mag > 0x7F800000u) return static_cast<uint16_t>(sign | 0x7E00u | ((mag >> 13) & 0x03FFu));  // NaN, quiet
  if (mag >= 0x477FF000u) return static_cast<uint16_t>(sign | 0x7C00u);  // >= 65520 (and inf): rounds to inf
  if (mag < 0x38800000u) {
    // Below the smallest normal 2^-14: an fp16 subnormal (unit 2^-24) or zero. 2^-25 is the tie
    // between 0 and the smallest subnormal and goes to the even one, 0.
    if (mag <= 0x33000000u) return static_cast<uint16_t>(sign);
    const uint32_t exp = mag >> 23;
    const uint32_t mant = (mag & 0x007FFFFFu) | 0x00800000u;
    const uint32_t shift = 126u - exp;  // value = mant * 2^(exp-150) = (mant >> shift) * 2^-24
    uint32_t r = mant >> shift;
    const uint32_t rem = mant & ((1u << shift) - 1u);
    const uint32_t half = 1u << (shift - 1u);
    if (rem > half || (rem == half && (r & 1u))) ++r;  // may carry into the smallest normal: correct
    return static_cast<uint16_t>(sign | r);
  }
  uint32_t h = (mag >> 13) - (112u << 10);  // rebias 127 -> 15
  const uint32_t rem = mag & 0x1FFFu;
  if (rem > 0x1000u || (rem == 0x1000u && (h & 1u))) ++h;  // carries into the exponent correctly
  return static_cast<uint16_t>(sign | h);
}

float fp16_to_float(uint16_t h) {
  const uint32_t sign = static_cast<uint32_t>(h & 0x8000u) << 16;
  const uint32_t exp = (h >> 10) & 0x1Fu;
  const uint32_t mant = h & 0x03FFu;
  if (exp == 0) {
    // Zero or subnormal: mant * 2^-24, exact in float.
    const float v = static_cast<float>(mant) * 0x1p-24f;
    return std::bit_cast<float>(std::bit_cast<uint32_t>(v) | sign);
  }
  if (exp == 31) return std::bit_cast<float>(sign | 0x7F800000u | (mant << 13));
  return std::bit_cast<float>(sign | ((exp + 112u) << 23) | (mant << 13));
}

namespace {

template <class In, class Out, class Fn>
void cast_array(const char* op, const In* in, Out* out, int64_t n, Fn fn) {
  detail::check_nonneg(op, "n", n);
  if (n == 0) return;
  detail::check_ptr(op, "in", in);
  detail::check_ptr(op, "out", out);
#pragma omp parallel for simd schedule(static) num_threads(detail::threads_for(n))
  for (int64_t i = 0; i < n; ++i) out[i] = fn(in[i]);
}

}  // namespace

void cast_f32_to_bf16(const float* in, uint16_t* out, int64_t n) {
  cast_array("cast_f32_to_bf16", in, out, n, [](float v) { return float_to_bf16(v); });
}
void cast_bf16_to_f32(const uint16_t* in, float* out, int64_t n) {
  cast_array("cast_bf16_to_f32", in, out, n, [](uint16_t v) { return bf16_to_float(v); });
}
void cast_f32_to_f16(const float* in, uint16_t* out, int64_t n) {
  cast_array("cast_f32_to_f16", in, out, n, [](float v) { return float_to_fp16(v); });
}
void cast_f16_to_f32(const uint16_t* in, float* out, int64_t n) {
  cast_array("cast_f16_to_f32", in, out, n, [](uint16_t v) { return fp16_to_float(v); });
}
void cast_bf16_to_f16(const uint16_t* in, uint16_t* out, int64_t n) {
  cast_array("cast_bf16_to_f16", in, out, n, [](uint16_t b) { return float_to_fp16(bf16_to_float(b)); });
}
void cast_f16_to_bf16(const uint16_t* in, uint16_t* out, int64_t n) {
  cast_array("cast_f16_to_bf16", in, out, n, [](uint16_t h) { return float_to_bf16(fp16_to_float(h)); });
}

}  // namespace megaswift::kernels::cpu
