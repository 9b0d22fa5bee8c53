#include "dtype.hpp"

#include <megaswift/sdk/status.hpp>

#include <array>
#include <cmath>
#include <cstring>
#include <limits>

namespace st {
namespace {

using megaswift::sdk::Error;

constexpr std::array<Dtype, 12> kDtypes{{
    {"F64", MSW_DTYPE_F64, 8},       {"F32", MSW_DTYPE_F32, 4},         {"F16", MSW_DTYPE_F16, 2},
    {"BF16", MSW_DTYPE_BF16, 2},     {"I64", MSW_DTYPE_I64, 8},         {"I32", MSW_DTYPE_I32, 4},
    {"I16", kNoMswDtype, 2},         {"I8", MSW_DTYPE_I8, 1},           {"U8", MSW_DTYPE_U8, 1},
    {"BOOL", MSW_DTYPE_BOOL, 1},     {"F8_E4M3", MSW_DTYPE_F8_E4M3, 1}, {"F8_E5M2", MSW_DTYPE_F8_E5M2, 1},
}};

constexpr std::array<std::string_view, 10> kSpecOnly{"U16", "U32", "U64", "C64", "F8_E8M0", "F8_E4M3FNUZ",
                                                     "F8_E5M2FNUZ", "F4", "F6_E2M3", "F6_E3M2"};

// A small binary float format: `ebits` exponent bits, `mbits` mantissa bits, IEEE bias. `finite_only` is
// the OCP E4M3 "fn" variant: no inf, the all-ones exponent holds normal numbers except mantissa all-ones (NaN).
struct Minifloat {
  int ebits;
  int mbits;
  bool finite_only;
  int bias() const { return (1 << (ebits - 1)) - 1; }
  uint32_t exp_max_field() const { return (1u << ebits) - 1; }
};

constexpr Minifloat kF16{5, 10, false};
constexpr Minifloat kBF16{8, 7, false};
constexpr Minifloat kE4M3{4, 3, true};
constexpr Minifloat kE5M2{5, 2, false};

const Minifloat* minifloat(int32_t dtype) {
  switch (dtype) {
    case MSW_DTYPE_F16: return &kF16;
    case MSW_DTYPE_BF16: return &kBF16;
    case MSW_DTYPE_F8_E4M3: return &kE4M3;
    case MSW_DTYPE_F8_E5M2: return &kE5M2;
    default: return nullptr;
  }
}

double decode_bits(uint32_t bits, const Minifloat& f) {
  const bool neg = (bits >> (f.ebits + f.mbits)) & 1u;
  const uint32_t e = (bits >> f.mbits) & f.exp_max_field();
  const uint32_t m = bits & ((1u << f.mbits) - 1);
  double v;
  if (e == f.exp_max_field() && (!f.finite_only || m == (1u << f.mbits) - 1)) {
    v = (m == 0 && !f.finite_only) ? std::numeric_limits<double>::infinity() : std::numeric_limits<double>::quiet_NaN();
  } else if (e == 0) {
    v = std::ldexp(static_cast<double>(m), 1 - f.bias() - f.mbits);
  } else {
    v = std::ldexp(static_cast<double>(m | (1u << f.mbits)), static_cast<int>(e) - f.bias() - f.mbits);
  }
  return neg ? -v : v;
}

// One rounding from the exact double to the format (round to nearest, ties to even).
uint32_t encode_bits(double x, const Minifloat& f) {
  const uint32_t sign = std::signbit(x) ? 1u << (f.ebits + f.mbits) : 0u;
  const uint32_t nan = f.finite_only ? sign | (f.exp_max_field() << f.mbits) | ((1u << f.mbits) - 1)
                                     : sign | (f.exp_max_field() << f.mbits) | (1u << (f.mbits - 1));
  const uint32_t inf = f.finite_only ? nan : sign | (f.exp_max_field() << f.mbits);
  if (std::isnan(x)) return nan;
  const double a = std::fabs(x);
  if (std::isinf(a)) return inf;
  if (a == 0) return sign;
  const int emin = 1 - f.bias();
  int e = std::ilogb(a);  // floor(log2 a)
  if (e < emin) e = emin;  // subnormal range: the quantum stays that of the smallest normal binade
  double q = std::nearbyint(std::ldexp(a, f.mbits - e));  // FE_TONEAREST is the default mode: ties to even
  if (q >= std::ldexp(1.0, f.mbits + 1)) {  // rounding carried into the next binade
    q /= 2;
    ++e;
  }
  const uint32_t qi = static_cast<uint32_t>(q);
  uint32_t field;
  if (qi < (1u << f.mbits)) {
    field = qi;  // subnormal (or rounded up to exactly the smallest normal, which the same bits encode)
  } else {
    const uint32_t exp_field = static_cast<uint32_t>(e + f.bias());
    const uint32_t mant = qi - (1u << f.mbits);
    const bool overflow = f.finite_only ? (exp_field > f.exp_max_field() ||
                                           (exp_field == f.exp_max_field() && mant == (1u << f.mbits) - 1))
                                        : exp_field >= f.exp_max_field();
    if (overflow) return inf;
    field = (exp_field << f.mbits) | mant;
  }
  return sign | field;
}

uint32_t load_bits(const void* p, size_t size) {
  if (size == 1) return *static_cast<const uint8_t*>(p);
  uint16_t v;
  std::memcpy(&v, p, 2);
  return v;
}

void store_bits(void* p, size_t size, uint32_t bits) {
  if (size == 1) {
    *static_cast<uint8_t*>(p) = static_cast<uint8_t>(bits);
  } else {
    const uint16_t v = static_cast<uint16_t>(bits);
    std::memcpy(p, &v, 2);
  }
}

}  // namespace

std::optional<Dtype> dtype_from_name(std::string_view name) {
  for (const Dtype& d : kDtypes)
    if (d.name == name) return d;
  return std::nullopt;
}

bool is_spec_dtype(std::string_view name) {
  for (std::string_view n : kSpecOnly)
    if (n == name) return true;
  return false;
}

std::string_view dtype_name(int32_t msw) {
  for (const Dtype& d : kDtypes)
    if (d.msw == msw && msw != kNoMswDtype) return d.name;
  throw Error(MSW_STATUS_INVALID_ARGUMENT, "safetensors cannot store msw dtype code " + std::to_string(msw));
}

std::string known_dtype_list() {
  std::string s;
  for (const Dtype& d : kDtypes) s += (s.empty() ? "" : " ") + std::string(d.name);
  return s;
}

double decode_one(const void* src, int32_t dtype) {
  switch (dtype) {
    case MSW_DTYPE_F64: { double v; std::memcpy(&v, src, 8); return v; }
    case MSW_DTYPE_F32: { float v; std::memcpy(&v, src, 4); return v; }
    default: break;
  }
  const Minifloat* f = minifloat(dtype);
  if (!f) throw Error(MSW_STATUS_INVALID_ARGUMENT, "decode: dtype code " + std::to_string(dtype) + " is not a float");
  return decode_bits(load_bits(src, msw_dtype_size(dtype)), *f);
}

void encode_one(double v, int32_t dtype, void* dst) {
  switch (dtype) {
    case MSW_DTYPE_F64: std::memcpy(dst, &v, 8); return;
    case MSW_DTYPE_F32: { const float f = static_cast<float>(v); std::memcpy(dst, &f, 4); return; }  // RNE
    default: break;
  }
  const Minifloat* f = minifloat(dtype);
  if (!f) throw Error(MSW_STATUS_INVALID_ARGUMENT, "encode: dtype code " + std::to_string(dtype) + " is not a float");
  store_bits(dst, msw_dtype_size(dtype), encode_bits(v, *f));
}

void convert(const void* src, int32_t src_dtype, void* dst, int32_t dst_dtype, size_t count) {
  const size_t ss = msw_dtype_size(src_dtype), ds = msw_dtype_size(dst_dtype);
  if (src_dtype == dst_dtype) {
    if (count) std::memcpy(dst, src, count * ss);
    return;
  }
  if (!msw_dtype_is_float(src_dtype) || !msw_dtype_is_float(dst_dtype))
    throw Error(MSW_STATUS_INVALID_ARGUMENT, std::string("conversion from ") + std::string(dtype_name(src_dtype)) +
                                                 " to " + std::string(dtype_name(dst_dtype)) +
                                                 " is not supported: only float dtypes convert into each other");
  const auto* s = static_cast<const uint8_t*>(src);
  auto* d = static_cast<uint8_t*>(dst);
  // The common case of loading a bf16 model into f32 is a shift; everything else takes the exact double path.
  if (src_dtype == MSW_DTYPE_BF16 && dst_dtype == MSW_DTYPE_F32) {
    for (size_t i = 0; i < count; ++i) {
      uint16_t h;
      std::memcpy(&h, s + 2 * i, 2);
      const uint32_t w = static_cast<uint32_t>(h) << 16;
      std::memcpy(d + 4 * i, &w, 4);
    }
    return;
  }
  for (size_t i = 0; i < count; ++i) encode_one(decode_one(s + i * ss, src_dtype), dst_dtype, d + i * ds);
}

}  // namespace st
