// Reading safetensors files (the HF weight format): a u64 little-endian header length, a JSON header naming
// every tensor's dtype, shape and byte range, then the raw little-endian data. Files are memory-mapped
// read-only; every offset is validated against the file size before any byte is handed out.
#pragma once

#include <megaswift/c/tensor.h>

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <map>
#include <memory>
#include <span>
#include <string>
#include <vector>

namespace megaswift::host {

struct SafetensorsEntry {
  std::string name;
  std::string dtype;            // the file's dtype string: "F32", "BF16", "I64", ...
  int32_t msw_dtype = -1;       // the msw_dtype it maps to, -1 when Megaswift has none (U16, F8_E4M3, ...)
  std::vector<int64_t> shape;   // [] for a scalar
  uint64_t begin = 0;           // byte offsets into the data section, end exclusive
  uint64_t end = 0;
};

// The safetensors dtype string of an msw_dtype ("F32", ...); throws for codes safetensors cannot store.
const char* safetensors_dtype_name(int32_t msw_dtype);

// "[2, 64]" for error messages.
std::string shape_string(std::span<const int64_t> shape);

class SafetensorsFile {
 public:
  // Maps and validates the file; throws HostError naming the file and the defect.
  explicit SafetensorsFile(const std::filesystem::path& path);
  ~SafetensorsFile();
  SafetensorsFile(const SafetensorsFile&) = delete;
  SafetensorsFile& operator=(const SafetensorsFile&) = delete;

  const std::filesystem::path& path() const { return path_; }
  const std::vector<SafetensorsEntry>& entries() const { return entries_; }  // in file (offset) order
  const std::map<std::string, std::string>& metadata() const { return metadata_; }
  const SafetensorsEntry* find(const std::string& name) const;

  // The tensor's bytes, valid while this object lives.
  std::span<const std::byte> bytes(const SafetensorsEntry& entry) const;
  // A CPU descriptor (contiguous strides) over the mapped bytes; read-only by contract.
  msw_tensor descriptor(const SafetensorsEntry& entry) const;

 private:
  std::filesystem::path path_;
  const std::byte* map_ = nullptr;
  size_t map_size_ = 0;
  size_t data_start_ = 0;
  std::vector<SafetensorsEntry> entries_;
  std::map<std::string, size_t> by_name_;
  std::map<std::string, std::string> metadata_;
};

// One tensor of a checkpoint together with the file that holds it.
struct TensorRef {
  const SafetensorsFile* file = nullptr;
  const SafetensorsEntry* entry = nullptr;
};

// All weights of an HF model directory: model.safetensors, or the shards that model.safetensors.index.json
// lists. Shards are opened lazily, each once.
class SafetensorsCheckpoint {
 public:
  // Opens `directory`; throws HostError when it holds neither model.safetensors nor an index, or when the
  // index is malformed.
  explicit SafetensorsCheckpoint(const std::filesystem::path& directory);
  // Opens a single file (tests, fixtures).
  static SafetensorsCheckpoint single_file(const std::filesystem::path& file);

  const std::filesystem::path& directory() const { return directory_; }
  std::vector<std::string> names() const;  // sorted
  bool contains(const std::string& name) const { return where_.count(name) != 0; }

  // The tensor, or a HostError (NOT_FOUND) naming it and the files searched.
  TensorRef get(const std::string& name) const;
  // Like get, and checks shape and dtype (one of `dtypes`): the error names the tensor, the file, and expected
  // vs found.
  TensorRef require(const std::string& name, std::span<const int32_t> dtypes, std::span<const int64_t> shape) const;

 private:
  SafetensorsCheckpoint() = default;
  const SafetensorsFile& open(const std::filesystem::path& file) const;

  std::filesystem::path directory_;
  std::string source_;  // "model.safetensors" or the index file name, for messages
  std::map<std::string, std::filesystem::path> where_;
  mutable std::map<std::filesystem::path, std::unique_ptr<SafetensorsFile>> files_;
};

}  // namespace megaswift::host
