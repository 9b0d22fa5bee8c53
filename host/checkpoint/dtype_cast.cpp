#include "host/checkpoint/dtype_cast.hpp"

#include "host/core/status.hpp"
#include "kernels/cpu/cast.hpp"

#include <cstring>
#include <vector>

namespace megaswift::host {

void cast_floats(const void* src, int32_t s, void* dst, int32_t d, int64_t n) {
  namespace k = kernels::cpu;
  auto is_float = [](int32_t t) { return t == MSW_DTYPE_F32 || t == MSW_DTYPE_BF16 || t == MSW_DTYPE_F16; };
  if (s == d) {
    std::memcpy(dst, src, static_cast<size_t>(n) * msw_dtype_size(s));
    return;
  }
  if (!is_float(s) || !is_float(d))
    throw HostError(MSW_STATUS_UNSUPPORTED, std::string("cannot cast between dtypes ") + torch_dtype_name(s) + " and " +
                                                torch_dtype_name(d) + ": only float dtypes convert");
  auto u16 = [](const void* p) { return static_cast<const uint16_t*>(p); };
  auto o16 = [](void* p) { return static_cast<uint16_t*>(p); };
  if (s == MSW_DTYPE_F32 && d == MSW_DTYPE_BF16) return k::cast_f32_to_bf16(static_cast<const float*>(src), o16(dst), n);
  if (s == MSW_DTYPE_F32 && d == MSW_DTYPE_F16) return k::cast_f32_to_f16(static_cast<const float*>(src), o16(dst), n);
  if (s == MSW_DTYPE_BF16 && d == MSW_DTYPE_F32) return k::cast_bf16_to_f32(u16(src), static_cast<float*>(dst), n);
  if (s == MSW_DTYPE_F16 && d == MSW_DTYPE_F32) return k::cast_f16_to_f32(u16(src), static_cast<float*>(dst), n);
  if (s == MSW_DTYPE_BF16 && d == MSW_DTYPE_F16) return k::cast_bf16_to_f16(u16(src), o16(dst), n);
  return k::cast_f16_to_bf16(u16(src), o16(dst), n);
}

int32_t dtype_from_torch_name(const std::string& name) {
  if (name == "bfloat16") return MSW_DTYPE_BF16;
  if (name == "float16") return MSW_DTYPE_F16;
  if (name == "float32") return MSW_DTYPE_F32;
  throw HostError(MSW_STATUS_INVALID_ARGUMENT, "torch_dtype '" + name + "' is not one of bfloat16, float16, float32");
}

const char* torch_dtype_name(int32_t dtype) {
  switch (dtype) {
    case MSW_DTYPE_BF16: return "bfloat16";
    case MSW_DTYPE_F16: return "float16";
    case MSW_DTYPE_F32: return "float32";
    default: return "a non-float dtype";
  }
}

}  // namespace megaswift::host
