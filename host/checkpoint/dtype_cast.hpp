// Casts between the float dtypes a checkpoint stores (F32, BF16, F16), rounding to nearest even
// (kernels/cpu/cast.hpp); the same dtype is a copy. Export uses it for --torch_dtype.
#pragma once

#include <megaswift/c/tensor.h>

#include <cstdint>
#include <string>

namespace megaswift::host {

// n elements from `src` of `src_dtype` into `dst` of `dst_dtype`; HostError for a non-float pair.
void cast_floats(const void* src, int32_t src_dtype, void* dst, int32_t dst_dtype, int64_t n);

// bfloat16 / float16 / float32 (as --torch_dtype spells them) to an msw_dtype; HostError otherwise.
int32_t dtype_from_torch_name(const std::string& name);
const char* torch_dtype_name(int32_t dtype);

}  // namespace megaswift::host
