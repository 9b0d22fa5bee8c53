// safetensors dtype names <-> msw_dtype codes, and conversion between the float dtypes.
#pragma once

#include <megaswift/c/tensor.h>

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace st {

// msw_dtype has no 16-bit integer; I16 tensors are still validated (the header is the spec's), but a
// read names the tensor and refuses it.
inline constexpr int32_t kNoMswDtype = -1;

struct Dtype {
  std::string_view name;  // as in the header: "BF16"
  int32_t msw;            // msw_dtype, or kNoMswDtype
  size_t size;            // bytes per element
};

// The dtypes this plugin knows (F64 F32 F16 BF16 I64 I32 I16 I8 U8 BOOL F8_E4M3 F8_E5M2); nullopt otherwise.
std::optional<Dtype> dtype_from_name(std::string_view name);
// True for names the safetensors spec defines that this plugin does not read (U16, C64, F8_E8M0, F4, ...):
// they get UNSUPPORTED rather than "malformed".
bool is_spec_dtype(std::string_view name);
// The header name of an msw_dtype; throws INVALID_ARGUMENT for a code safetensors cannot store.
std::string_view dtype_name(int32_t msw);
// "F64, F32, ..." for error messages.
std::string known_dtype_list();

// Converts `count` elements between float dtypes (F64 F32 F16 BF16 F8_E4M3 F8_E5M2), rounding to nearest
// even; overflow gives inf (F16, BF16, F8_E5M2) or NaN (F8_E4M3, which has no inf, as torch.float8_e4m3fn).
// Equal dtypes copy. Any other pair throws.
void convert(const void* src, int32_t src_dtype, void* dst, int32_t dst_dtype, size_t count);

// Helpers exposed for the tests: one value through the generic encoder/decoder.
double decode_one(const void* src, int32_t dtype);
void encode_one(double v, int32_t dtype, void* dst);

}  // namespace st
