// One safetensors file's header: read and validated completely before any tensor byte is used.
#pragma once

#include "dtype.hpp"
#include "file_io.hpp"

#include <cstdint>
#include <map>
#include <string>
#include <vector>

namespace st {

// The reference readers refuse headers above 100 MB (safetensors' MAX_HEADER_SIZE).
inline constexpr uint64_t kMaxHeaderSize = 100'000'000;

struct TensorEntry {
  std::string name;
  Dtype dtype;
  std::vector<int64_t> shape;
  uint64_t numel = 0;
  uint64_t begin = 0;  // data_offsets, relative to the data area
  uint64_t end = 0;
};

struct FileHeader {
  std::string path;
  uint64_t header_size = 0;  // N, the JSON length
  uint64_t data_start = 0;   // 8 + N
  uint64_t file_size = 0;
  std::vector<TensorEntry> tensors;  // in data-offset order
  std::map<std::string, std::string> metadata;  // "__metadata__" (strings only, as the spec says)
};

// Reads the 8-byte length and the JSON header of `f` and checks, in this order: the length against the limit
// and the file size; UTF-8; a JSON object without duplicate keys; "__metadata__" a map of strings; each entry's
// dtype, shape (element count and byte count without 64-bit overflow), data_offsets; then, sorted by offset,
// entries contiguous from 0, neither overlapping nor leaving gaps, ending exactly at the end of the file.
// Every failure is an Error naming the file, the tensor and the field.
FileHeader read_header(const Fd& f);

// The deepest nesting of JSON objects and arrays in `text` (strings skipped). Checked before nlohmann parses
// untrusted text: its recursive value handling exhausts the stack on deeply nested input.
size_t json_nesting_depth(const std::string& text);
inline constexpr size_t kMaxNesting = 16;

// Same, for the validation of a header in memory (the tests feed it bytes); `file_size` is the whole file's.
FileHeader parse_header(const std::string& path, const std::string& json_bytes, uint64_t file_size);

}  // namespace st
