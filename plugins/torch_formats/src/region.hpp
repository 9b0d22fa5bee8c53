// Copying the part of a stored chunk that falls inside a requested region, with float conversion.
//
// Resharding is by regions: a request [offset, offset + out.shape) of a global tensor is served from every
// stored chunk it intersects. Conversions happen only between float dtypes and round to nearest even
// (F32 -> BF16/F16 directly; F64 goes through F32 first). Integer dtypes must match exactly.
#pragma once

#include <megaswift/c/tensor.h>
#include <megaswift/sdk/status.hpp>

#include <cstdint>
#include <string>
#include <vector>

namespace torchfmt {

struct ChunkView {
  const uint8_t* data = nullptr;  // first element
  int32_t dtype = MSW_DTYPE_F32;
  std::vector<int64_t> offset;    // where the chunk starts in the global tensor
  std::vector<int64_t> shape;
  std::vector<int64_t> strides;   // elements
};

// Copies chunk ∩ region into `out` (region starts at `region_offset`); returns the elements copied.
int64_t copy_intersection(const ChunkView& chunk, const std::vector<int64_t>& region_offset, const msw_tensor& out);

// Checks that a read request fits the tensor and that out.dtype can be converted from `stored` (names `key`).
void check_region_request(const std::string& key, int32_t stored, const std::vector<int64_t>& global_shape,
                          const std::vector<int64_t>& offset, const msw_tensor& out);

int64_t numel_checked(const std::vector<int64_t>& shape, const std::string& what);
std::vector<int64_t> contiguous_strides(const std::vector<int64_t>& shape);

// Float conversions (round to nearest even), exposed for tests.
float bf16_to_f32(uint16_t h);
uint16_t f32_to_bf16(float f);
float f16_to_f32(uint16_t h);
uint16_t f32_to_f16(float f);

}  // namespace torchfmt
