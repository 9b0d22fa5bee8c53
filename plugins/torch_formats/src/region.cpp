#include "region.hpp"

#include <megaswift/sdk/tensor.hpp>

#include <cmath>
#include <algorithm>
#include <cstring>
#include <limits>

namespace torchfmt {

using megaswift::sdk::Error;

float bf16_to_f32(uint16_t h) {
  const uint32_t u = static_cast<uint32_t>(h) << 16;
  float f;
  std::memcpy(&f, &u, 4);
  return f;
}

uint16_t f32_to_bf16(float f) {
  uint32_t u;
  std::memcpy(&u, &f, 4);
  if ((u & 0x7fffffff) > 0x7f800000) return static_cast<uint16_t>((u >> 16) | 0x40);  // quiet NaN
  u += 0x7fff + ((u >> 16) & 1);  // round to nearest even
  return static_cast<uint16_t>(u >> 16);
}

float f16_to_f32(uint16_t h) {
  const uint32_t sign = (h & 0x8000u) << 16, exp = (h >> 10) & 0x1f, mant = h & 0x3ff;
  uint32_t u;
  if (exp == 0) {
    if (mant == 0) u = sign;
    else {  // subnormal: normalise
      int e = -1;
      uint32_t m = mant;
      do {
        ++e;
        m <<= 1;
      } while (!(m & 0x400));
      u = sign | static_cast<uint32_t>(127 - 15 - e) << 23 | (m & 0x3ff) << 13;
    }
  } else if (exp == 0x1f) {
    u = sign | 0x7f800000u | mant << 13;
  } else {
    u = sign | (exp + 127 - 15) << 23 | mant << 13;
  }
  float f;
  std::memcpy(&f, &u, 4);
  return f;
}

uint16_t f32_to_f16(float f) {
  uint32_t u;
  std::memcpy(&u, &f, 4);
  const uint16_t sign = static_cast<uint16_t>((u >> 16) & 0x8000);
  const uint32_t a = u & 0x7fffffff;
  if (a > 0x7f800000) return sign | 0x7e00;   // NaN
  if (a >= 0x477ff000) return sign | 0x7c00;  // rounds to >= 65520: inf
  if (a < 0x38800000) {                        // below the smallest normal half: subnormal or zero
    if (a < 0x33000000) return sign;           // < 2^-25 rounds to zero
    const uint32_t e = a >> 23, m = (a & 0x7fffff) | 0x800000;
    // value = m * 2^(e-150); half subnormal unit = 2^-24 -> units = m * 2^(e-126)
    const uint32_t rshift = 126 - e;           // >= 1
    uint32_t units = m >> rshift;
    const uint32_t rem = m & ((1u << rshift) - 1), half = 1u << (rshift - 1);
    if (rem > half || (rem == half && (units & 1))) ++units;
    return sign | static_cast<uint16_t>(units);
  }
  uint32_t v = a - 0x38000000;  // rebias exponent 127 -> 15 (in place)
  v += 0xfff + ((v >> 13) & 1);
  return sign | static_cast<uint16_t>(v >> 13);
}

namespace {

bool is_float(int32_t d) { return d == MSW_DTYPE_F32 || d == MSW_DTYPE_F16 || d == MSW_DTYPE_BF16 || d == MSW_DTYPE_F64; }

double load(const uint8_t* p, int32_t d) {
  switch (d) {
    case MSW_DTYPE_F32: { float f; std::memcpy(&f, p, 4); return f; }
    case MSW_DTYPE_F64: { double f; std::memcpy(&f, p, 8); return f; }
    case MSW_DTYPE_BF16: { uint16_t h; std::memcpy(&h, p, 2); return bf16_to_f32(h); }
    default: { uint16_t h; std::memcpy(&h, p, 2); return f16_to_f32(h); }
  }
}

void store(uint8_t* p, int32_t d, double v) {
  switch (d) {
    case MSW_DTYPE_F32: { float f = static_cast<float>(v); std::memcpy(p, &f, 4); break; }
    case MSW_DTYPE_F64: std::memcpy(p, &v, 8); break;
    case MSW_DTYPE_BF16: { uint16_t h = f32_to_bf16(static_cast<float>(v)); std::memcpy(p, &h, 2); break; }
    default: { uint16_t h = f32_to_f16(static_cast<float>(v)); std::memcpy(p, &h, 2); break; }
  }
}

}  // namespace

int64_t numel_checked(const std::vector<int64_t>& shape, const std::string& what) {
  int64_t n = 1;
  for (int64_t s : shape) {
    if (s < 0) throw Error(MSW_STATUS_IO, what + ": negative dimension " + std::to_string(s));
    if (s && n > std::numeric_limits<int64_t>::max() / 16 / s)
      throw Error(MSW_STATUS_IO, what + ": element count overflows");
    n *= s;
  }
  return n;
}

std::vector<int64_t> contiguous_strides(const std::vector<int64_t>& shape) {
  std::vector<int64_t> st(shape.size());
  int64_t s = 1;
  for (size_t d = shape.size(); d-- > 0;) {
    st[d] = s;
    s *= shape[d];
  }
  return st;
}

void check_region_request(const std::string& key, int32_t stored, const std::vector<int64_t>& global_shape,
                          const std::vector<int64_t>& offset, const msw_tensor& out) {
  if (out.device.type != MSW_DEVICE_CPU)
    throw Error(MSW_STATUS_UNSUPPORTED, "read_region " + key + ": out must be a CPU tensor");
  if (out.ndim != static_cast<int32_t>(global_shape.size()) || offset.size() != global_shape.size())
    throw Error(MSW_STATUS_SHAPE_MISMATCH, "read_region " + key + ": the tensor has " +
                                               std::to_string(global_shape.size()) + " dimensions, out has " +
                                               std::to_string(out.ndim));
  for (size_t d = 0; d < global_shape.size(); ++d)
    if (offset[d] < 0 || out.shape[d] < 0 || offset[d] > global_shape[d] || out.shape[d] > global_shape[d] - offset[d])
      throw Error(MSW_STATUS_SHAPE_MISMATCH, "read_region " + key + ": region offset " + std::to_string(offset[d]) +
                                                 " size " + std::to_string(out.shape[d]) + " of dimension " +
                                                 std::to_string(d) + " exceeds the global size " +
                                                 std::to_string(global_shape[d]));
  if (out.dtype != stored && !(is_float(out.dtype) && is_float(stored)))
    throw Error(MSW_STATUS_SHAPE_MISMATCH, "read_region " + key + ": stored as " +
                                               megaswift::sdk::dtype_name(stored) + ", cannot convert to " +
                                               megaswift::sdk::dtype_name(out.dtype) +
                                               " (only float types convert)");
  if (!out.data && numel_checked(std::vector<int64_t>(out.shape, out.shape + out.ndim), key) > 0)
    throw Error(MSW_STATUS_INVALID_ARGUMENT, "read_region " + key + ": out.data is NULL");
}

int64_t copy_intersection(const ChunkView& c, const std::vector<int64_t>& ro, const msw_tensor& out) {
  const size_t nd = c.shape.size();
  std::vector<int64_t> lo(nd), hi(nd);
  for (size_t d = 0; d < nd; ++d) {
    lo[d] = std::max(c.offset[d], ro[d]);
    hi[d] = std::min(c.offset[d] + c.shape[d], ro[d] + out.shape[d]);
    if (lo[d] >= hi[d]) return 0;
  }
  const size_t si = msw_dtype_size(c.dtype), di = msw_dtype_size(out.dtype);
  uint8_t* obase = static_cast<uint8_t*>(out.data) + out.byte_offset;
  const int64_t row = nd ? hi[nd - 1] - lo[nd - 1] : 1;
  const int64_t sstep = nd ? c.strides[nd - 1] : 1, dstep = nd ? out.strides[nd - 1] : 1;
  const bool same = c.dtype == out.dtype;
  std::vector<int64_t> idx(lo);
  int64_t copied = 0;
  for (;;) {
    int64_t so = 0, dof = 0;
    for (size_t d = 0; d < nd; ++d) {
      so += (idx[d] - c.offset[d]) * c.strides[d];
      dof += (idx[d] - ro[d]) * out.strides[d];
    }
    const uint8_t* s = c.data + so * static_cast<int64_t>(si);
    uint8_t* o = obase + dof * static_cast<int64_t>(di);
    if (same && sstep == 1 && dstep == 1) {
      std::memcpy(o, s, static_cast<size_t>(row) * si);
    } else if (same) {
      for (int64_t k = 0; k < row; ++k) std::memcpy(o + k * dstep * static_cast<int64_t>(di), s + k * sstep * static_cast<int64_t>(si), si);
    } else {
      for (int64_t k = 0; k < row; ++k)
        store(o + k * dstep * static_cast<int64_t>(di), out.dtype, load(s + k * sstep * static_cast<int64_t>(si), c.dtype));
    }
    copied += row;
    // Advance the odometer over all but the last dimension.
    size_t d = nd > 0 ? nd - 1 : 0;
    bool done = true;
    while (d-- > 0) {
      if (++idx[d] < hi[d]) {
        done = false;
        break;
      }
      idx[d] = lo[d];
    }
    if (done) break;
  }
  return copied;
}

}  // namespace torchfmt
