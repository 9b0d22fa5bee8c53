// The zarr v2 array metadata (.zarray) as Megatron-Core's zarr strategy writes it and zarr-python 2.x reads
// it: parsing with validation of every field a reader relies on, and the exact text zarr 2.13.6 writes.
#pragma once

#include <megaswift/ckpt/box.hpp>

#include <optional>
#include <string>
#include <vector>

namespace megaswift::zarr {

using ckpt::Dims;

struct ZArray {
  Dims shape;
  Dims chunks;
  int32_t dtype = MSW_DTYPE_F32;
  std::string dtype_text;                 // as written: "<f4", "bfloat16", ...
  std::optional<std::vector<char>> fill;  // one element in the stored dtype; empty for fill_value null
  char separator = '.';                   // dimension_separator
  int64_t chunk_bytes = 0;                // prod(chunks) * itemsize

  // The chunk file name of grid index `idx`: "0.1.2" (or "0/1/2"); "0" for a 0-d array as zarr-python.
  std::string chunk_key(const Dims& idx) const;
};

// Megatron's dtype strings: "<f4", "<f2", "<f8", "bfloat16", "|i1", "|u1", "<i4", "<i8", "|b1"; nullptr for
// a dtype zarr cannot hold (fp8: no NumPy dtype).
const char* zarr_dtype_text(int32_t dtype);

// Parses `text` (the file `path`); every failure names the file, the field and what was expected.
ZArray parse_zarray(const std::string& text, const std::string& path);

// The .zarray text zarr-python 2.13.6 writes for Megatron's zarr.create(..., compressor=None, fill_value=None):
// sorted keys, 4-space indent, no dimension_separator key.
std::string zarray_text(const Dims& shape, const Dims& chunks, int32_t dtype);

}  // namespace megaswift::zarr
