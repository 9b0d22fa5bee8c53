// Small helpers over msw_tensor for plugin code: typed element access and shape checks.
#pragma once

#include <megaswift/c/tensor.h>
#include <megaswift/sdk/status.hpp>

#include <string>

namespace megaswift::sdk {

inline const char* dtype_name(int32_t dtype) {
  switch (dtype) {
    case MSW_DTYPE_F32: return "float32";
    case MSW_DTYPE_F16: return "float16";
    case MSW_DTYPE_BF16: return "bfloat16";
    case MSW_DTYPE_F64: return "float64";
    case MSW_DTYPE_I8: return "int8";
    case MSW_DTYPE_U8: return "uint8";
    case MSW_DTYPE_I32: return "int32";
    case MSW_DTYPE_I64: return "int64";
    case MSW_DTYPE_BOOL: return "bool";
    case MSW_DTYPE_F8_E4M3: return "float8_e4m3fn";
    case MSW_DTYPE_F8_E5M2: return "float8_e5m2";
    default: return "unknown dtype";
  }
}

inline std::string shape_string(const msw_tensor& t) {
  std::string s = "(";
  for (int32_t i = 0; i < t.ndim; ++i) s += (i ? ", " : "") + std::to_string(t.shape[i]);
  return s + ")";
}

// Pointer to the first element as T, after checking the dtype code.
template <class T>
T* data_as(const msw_tensor& t, int32_t expected_dtype, const char* what) {
  if (t.dtype != expected_dtype)
    throw Error(MSW_STATUS_SHAPE_MISMATCH, std::string(what) + ": expected " + dtype_name(expected_dtype) +
                                               ", got " + dtype_name(t.dtype));
  return reinterpret_cast<T*>(static_cast<char*>(t.data) + t.byte_offset);
}

inline void require_cpu_contiguous(const msw_tensor& t, const char* what) {
  if (t.device.type != MSW_DEVICE_CPU)
    throw Error(MSW_STATUS_UNSUPPORTED, std::string(what) + ": only CPU tensors are supported by this plugin");
  if (!msw_tensor_is_contiguous(&t))
    throw Error(MSW_STATUS_INVALID_ARGUMENT, std::string(what) + ": tensor " + shape_string(t) + " is not contiguous");
}

}  // namespace megaswift::sdk
