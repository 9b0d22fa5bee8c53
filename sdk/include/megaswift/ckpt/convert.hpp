// Element conversions for checkpoint readers (header-only SDK helpers for checkpoint-format plugins; each
// plugin compiles its own copy, so no symbol crosses a library boundary).
//
// read_region converts only between float types (F32, F16, BF16, F64); narrowing rounds to nearest even,
// NaN stays NaN (quiet), overflow gives +-inf. F64 -> F16/BF16 goes through F32 (two roundings; the host
// never asks for that direction in practice: checkpoints are F32/BF16/F16). Integer and bool tensors are
// read only in their stored dtype: a conversion there would hide a caller's mistake.
#pragma once

#include <megaswift/c/tensor.h>
#include <megaswift/sdk/status.hpp>
#include <megaswift/sdk/tensor.hpp>

#include <cmath>
#include <cstdint>
#include <cstring>
#include <string>

namespace megaswift::ckpt {

inline float bits_to_f32(uint32_t u) {
  float f;
  std::memcpy(&f, &u, 4);
  return f;
}
inline uint32_t f32_to_bits(float f) {
  uint32_t u;
  std::memcpy(&u, &f, 4);
  return u;
}

inline float bf16_to_f32(uint16_t h) { return bits_to_f32(static_cast<uint32_t>(h) << 16); }

inline uint16_t f32_to_bf16(float f) {
  uint32_t u = f32_to_bits(f);
  if ((u & 0x7fffffffu) > 0x7f800000u) return static_cast<uint16_t>((u >> 16) | 0x0040u);  // quiet NaN
  u += 0x7fffu + ((u >> 16) & 1u);                                                          // nearest even
  return static_cast<uint16_t>(u >> 16);
}

inline float f16_to_f32(uint16_t h) {
  const uint32_t sign = static_cast<uint32_t>(h & 0x8000u) << 16;
  const uint32_t exp = (h >> 10) & 0x1fu;
  uint32_t mant = h & 0x3ffu;
  if (exp == 0x1f) return bits_to_f32(sign | 0x7f800000u | (mant << 13));
  if (exp != 0) return bits_to_f32(sign | ((exp + 112u) << 23) | (mant << 13));
  if (mant == 0) return bits_to_f32(sign);
  // Subnormal half: normalise into an f32 exponent.
  int e = -1;
  do {
    ++e;
    mant <<= 1;
  } while ((mant & 0x400u) == 0);
  return bits_to_f32(sign | (static_cast<uint32_t>(112 - e) << 23) | ((mant & 0x3ffu) << 13));
}

inline uint16_t f32_to_f16(float f) {
  const uint32_t u = f32_to_bits(f);
  const uint16_t sign = static_cast<uint16_t>((u >> 16) & 0x8000u);
  const uint32_t abs = u & 0x7fffffffu;
  if (abs > 0x7f800000u) return static_cast<uint16_t>(sign | 0x7e00u | ((abs >> 13) & 0x3ffu));  // NaN
  if (abs >= 0x477ff000u) return static_cast<uint16_t>(sign | 0x7c00u);  // rounds past 65504: inf
  if (abs < 0x38800000u) {
    // Result is subnormal (or zero): shift the full mantissa right and round to nearest even.
    if (abs < 0x33000000u) return sign;  // below half the smallest subnormal
    const uint32_t exp = abs >> 23;
    const uint32_t mant = (abs & 0x7fffffu) | 0x800000u;
    const uint32_t shift = 126u - exp;  // 14..24
    uint32_t half = mant >> shift;
    const uint32_t rem = mant & ((1u << shift) - 1u);
    const uint32_t mid = 1u << (shift - 1u);
    if (rem > mid || (rem == mid && (half & 1u))) ++half;
    return static_cast<uint16_t>(sign | half);
  }
  uint32_t v = abs - 0x38000000u;  // rebias 127 -> 15, still with 23 mantissa bits
  v += 0xfffu + ((v >> 13) & 1u);
  return static_cast<uint16_t>(sign | (v >> 13));
}

inline bool is_convertible_float(int32_t dtype) {
  return dtype == MSW_DTYPE_F32 || dtype == MSW_DTYPE_F16 || dtype == MSW_DTYPE_BF16 || dtype == MSW_DTYPE_F64;
}

inline double load_float(const char* p, int32_t dtype) {
  switch (dtype) {
    case MSW_DTYPE_F32: { float f; std::memcpy(&f, p, 4); return f; }
    case MSW_DTYPE_F64: { double d; std::memcpy(&d, p, 8); return d; }
    case MSW_DTYPE_F16: { uint16_t h; std::memcpy(&h, p, 2); return f16_to_f32(h); }
    default: { uint16_t h; std::memcpy(&h, p, 2); return bf16_to_f32(h); }
  }
}

inline void store_float(double v, char* p, int32_t dtype) {
  switch (dtype) {
    case MSW_DTYPE_F32: { float f = static_cast<float>(v); std::memcpy(p, &f, 4); return; }
    case MSW_DTYPE_F64: std::memcpy(p, &v, 8); return;
    case MSW_DTYPE_F16: { uint16_t h = f32_to_f16(static_cast<float>(v)); std::memcpy(p, &h, 2); return; }
    default: { uint16_t h = f32_to_bf16(static_cast<float>(v)); std::memcpy(p, &h, 2); return; }
  }
}

// Throws unless `stored` can be read into `wanted` (same dtype, or both floats).
inline void require_convertible(int32_t stored, int32_t wanted, const std::string& key) {
  if (stored == wanted) return;
  if (is_convertible_float(stored) && is_convertible_float(wanted)) return;
  throw sdk::Error(MSW_STATUS_SHAPE_MISMATCH,
                   "read_region: " + key + " is stored as " + sdk::dtype_name(stored) + " and cannot be read as " +
                       sdk::dtype_name(wanted) + " (only float types convert into one another; read it as " +
                       sdk::dtype_name(stored) + ")");
}

// n elements from `src` (stored dtype) into `dst` (wanted dtype); require_convertible checked before.
inline void convert(const char* src, int32_t stored, char* dst, int32_t wanted, size_t n) {
  if (stored == wanted) {
    std::memcpy(dst, src, n * msw_dtype_size(stored));
    return;
  }
  const size_t ss = msw_dtype_size(stored), ds = msw_dtype_size(wanted);
  if (stored == MSW_DTYPE_F16 || stored == MSW_DTYPE_BF16 || wanted == MSW_DTYPE_F16 || wanted == MSW_DTYPE_BF16) {
    if (stored != MSW_DTYPE_F64 && wanted != MSW_DTYPE_F64) {
      // f32 is exact for every 16-bit value, so route through float (faster than double).
      for (size_t i = 0; i < n; ++i) {
        const float f = static_cast<float>(load_float(src + i * ss, stored));
        store_float(f, dst + i * ds, wanted);
      }
      return;
    }
  }
  for (size_t i = 0; i < n; ++i) store_float(load_float(src + i * ss, stored), dst + i * ds, wanted);
}

}  // namespace megaswift::ckpt
