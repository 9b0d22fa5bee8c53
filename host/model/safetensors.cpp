#include "host/model/safetensors.hpp"

#include "host/core/status.hpp"
#include "host/core/text_io.hpp"

#include <megaswift/sdk/regular_file.hpp>

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cstring>
#include <optional>
#include <sys/mman.h>

namespace megaswift::host {
namespace {

constexpr uint64_t kMaxHeaderBytes = 100'000'000;  // what the reference implementation accepts

struct DtypeInfo {
  const char* name;
  int32_t msw_dtype;
  uint32_t bits;
};

constexpr DtypeInfo kDtypes[] = {
    {"F32", MSW_DTYPE_F32, 32},  {"F16", MSW_DTYPE_F16, 16},   {"BF16", MSW_DTYPE_BF16, 16},
    {"F64", MSW_DTYPE_F64, 64},  {"I8", MSW_DTYPE_I8, 8},      {"U8", MSW_DTYPE_U8, 8},
    {"I32", MSW_DTYPE_I32, 32},  {"I64", MSW_DTYPE_I64, 64},   {"BOOL", MSW_DTYPE_BOOL, 8},
    {"I16", -1, 16},             {"U16", -1, 16},              {"U32", -1, 32},
    {"U64", -1, 64},             {"C64", -1, 64},              {"F8_E5M2", -1, 8},
    {"F8_E4M3", -1, 8},          {"F8_E8M0", -1, 8},           {"F8_E4M3FNUZ", -1, 8},
    {"F8_E5M2FNUZ", -1, 8},      {"F4", -1, 4},                {"F6_E2M3", -1, 6},
    {"F6_E3M2", -1, 6},
};

const DtypeInfo* dtype_info(const std::string& name) {
  for (const auto& d : kDtypes)
    if (name == d.name) return &d;
  return nullptr;
}

[[noreturn]] void fail(msw_status_code code, const std::filesystem::path& path, const std::string& what) {
  throw HostError(code, "safetensors file " + path.string() + ": " + what);
}

}  // namespace

const char* safetensors_dtype_name(int32_t msw_dtype) {
  for (const auto& d : kDtypes)
    if (d.msw_dtype == msw_dtype && d.msw_dtype >= 0) return d.name;
  throw HostError(MSW_STATUS_INVALID_ARGUMENT, "dtype code " + std::to_string(msw_dtype) + " has no safetensors name");
}

std::string shape_string(std::span<const int64_t> shape) {
  std::string s = "[";
  for (size_t i = 0; i < shape.size(); ++i) s += (i ? ", " : "") + std::to_string(shape[i]);
  return s + "]";
}

SafetensorsFile::SafetensorsFile(const std::filesystem::path& path) : path_(path) {
  // A FIFO or device is refused before any read (sdk::RegularFile); the mapping covers the size seen at opening.
  std::optional<sdk::RegularFile> file;
  try {
    file.emplace(path.string(), "safetensors file");
  } catch (const sdk::Error& e) {
    throw HostError(e.code(), e.what());
  }
  map_size_ = static_cast<size_t>(file->size());
  if (map_size_ < 8)
    fail(MSW_STATUS_IO, path, "file is " + std::to_string(map_size_) + " bytes, shorter than the 8-byte header length");
  void* m = ::mmap(nullptr, map_size_, PROT_READ, MAP_PRIVATE, file->fd(), 0);
  file.reset();
  if (m == MAP_FAILED) fail(MSW_STATUS_IO, path, std::string("mmap failed: ") + std::strerror(errno));
  map_ = static_cast<const std::byte*>(m);

  try {
    uint64_t header_len = 0;
    for (int i = 7; i >= 0; --i) header_len = (header_len << 8) | static_cast<uint8_t>(map_[i]);
    if (header_len > kMaxHeaderBytes)
      fail(MSW_STATUS_IO, path, "header length " + std::to_string(header_len) + " exceeds the 100 MB limit (corrupt file?)");
    if (8 + header_len > map_size_)
      fail(MSW_STATUS_IO, path, "header length " + std::to_string(header_len) + " runs past the end of the " +
                                    std::to_string(map_size_) + "-byte file (truncated?)");
    data_start_ = 8 + static_cast<size_t>(header_len);
    std::string_view text(reinterpret_cast<const char*>(map_ + 8), header_len);
    nlohmann::json header;
    try {
      header = nlohmann::json::parse(text);
    } catch (const nlohmann::json::exception& e) {
      fail(MSW_STATUS_IO, path, std::string("header is not valid JSON: ") + e.what());
    }
    if (!header.is_object()) fail(MSW_STATUS_IO, path, "header is not a JSON object");

    const uint64_t data_size = map_size_ - data_start_;
    for (auto it = header.begin(); it != header.end(); ++it) {
      if (it.key() == "__metadata__") {
        if (!it->is_object()) fail(MSW_STATUS_IO, path, "__metadata__ is not an object");
        for (auto m2 = it->begin(); m2 != it->end(); ++m2)
          if (m2->is_string()) metadata_[m2.key()] = m2->get<std::string>();
        continue;
      }
      const auto& v = *it;
      SafetensorsEntry e;
      e.name = it.key();
      if (!v.is_object() || !v.contains("dtype") || !v.contains("shape") || !v.contains("data_offsets"))
        fail(MSW_STATUS_IO, path, "tensor '" + e.name + "' lacks dtype, shape or data_offsets");
      if (!v["dtype"].is_string()) fail(MSW_STATUS_IO, path, "tensor '" + e.name + "' dtype is not a string");
      e.dtype = v["dtype"].get<std::string>();
      const DtypeInfo* info = dtype_info(e.dtype);
      if (!info) fail(MSW_STATUS_IO, path, "tensor '" + e.name + "' has unknown dtype '" + e.dtype + "'");
      e.msw_dtype = info->msw_dtype;
      if (!v["shape"].is_array()) fail(MSW_STATUS_IO, path, "tensor '" + e.name + "' shape is not a list");
      // The element count is multiplied in checked arithmetic: a shape whose product wraps around 64 bits could
      // otherwise match small data_offsets and describe a tensor far larger than its bytes.
      uint64_t numel = 1;
      bool overflow = false;
      for (const auto& d : v["shape"]) {
        if (!d.is_number_integer())
          fail(MSW_STATUS_IO, path, "tensor '" + e.name + "' has a dimension that is not an integer (" + d.dump() + ")");
        if (d.is_number_unsigned() && d.get<uint64_t>() > static_cast<uint64_t>(INT64_MAX))
          fail(MSW_STATUS_IO, path, "tensor '" + e.name + "' has a dimension above 2^63 (" + d.dump() + ")");
        const int64_t n = d.get<int64_t>();
        if (n < 0) fail(MSW_STATUS_IO, path, "tensor '" + e.name + "' has a negative dimension");
        e.shape.push_back(n);
        overflow = overflow || __builtin_mul_overflow(numel, static_cast<uint64_t>(n), &numel);
      }
      uint64_t bits = 0;
      if (overflow || __builtin_mul_overflow(numel, uint64_t{info->bits}, &bits))
        fail(MSW_STATUS_IO, path, "tensor '" + e.name + "' " + e.dtype + " " + shape_string(e.shape) +
                                      " has more elements than 64 bits can count (corrupt header?)");
      const auto& off = v["data_offsets"];
      if (!off.is_array() || off.size() != 2 || !off[0].is_number_unsigned() || !off[1].is_number_unsigned())
        fail(MSW_STATUS_IO, path, "tensor '" + e.name + "' data_offsets is not [begin, end] of byte positions");
      e.begin = off[0].get<uint64_t>();
      e.end = off[1].get<uint64_t>();
      if (e.end < e.begin || e.end > data_size)
        fail(MSW_STATUS_IO, path, "tensor '" + e.name + "' data_offsets [" + std::to_string(e.begin) + ", " +
                                      std::to_string(e.end) + ") lie outside the " + std::to_string(data_size) +
                                      "-byte data section (truncated file?)");
      const uint64_t expected = bits / 8 + (bits % 8 != 0);
      if (e.end - e.begin != expected)
        fail(MSW_STATUS_IO, path, "tensor '" + e.name + "' " + e.dtype + " " + shape_string(e.shape) + " needs " +
                                      std::to_string(expected) + " bytes but data_offsets span " +
                                      std::to_string(e.end - e.begin));
      entries_.push_back(std::move(e));
    }
    std::sort(entries_.begin(), entries_.end(), [](const auto& a, const auto& b) { return a.begin < b.begin; });
    uint64_t cursor = 0;
    for (size_t i = 0; i < entries_.size(); ++i) {
      if (entries_[i].begin != cursor)
        fail(MSW_STATUS_IO, path, "tensor '" + entries_[i].name + "' starts at byte " + std::to_string(entries_[i].begin) +
                                      " of the data section, expected " + std::to_string(cursor) +
                                      " (tensors overlap or leave a hole)");
      cursor = entries_[i].end;
      by_name_[entries_[i].name] = i;
    }
    if (cursor != data_size)
      fail(MSW_STATUS_IO, path, "data section is " + std::to_string(data_size) + " bytes but the tensors cover " +
                                    std::to_string(cursor));
  } catch (...) {
    ::munmap(const_cast<std::byte*>(map_), map_size_);
    map_ = nullptr;
    throw;
  }
}

SafetensorsFile::~SafetensorsFile() {
  if (map_) ::munmap(const_cast<std::byte*>(map_), map_size_);
}

const SafetensorsEntry* SafetensorsFile::find(const std::string& name) const {
  auto it = by_name_.find(name);
  return it == by_name_.end() ? nullptr : &entries_[it->second];
}

std::span<const std::byte> SafetensorsFile::bytes(const SafetensorsEntry& e) const {
  return {map_ + data_start_ + e.begin, static_cast<size_t>(e.end - e.begin)};
}

msw_tensor SafetensorsFile::descriptor(const SafetensorsEntry& e) const {
  if (e.msw_dtype < 0)
    fail(MSW_STATUS_UNSUPPORTED, path_, "tensor '" + e.name + "' has dtype " + e.dtype +
                                           ", which Megaswift cannot compute with (supported: F32, F16, BF16, F64, "
                                           "I8, U8, I32, I64, BOOL)");
  if (e.shape.size() > MSW_MAX_DIMS)
    fail(MSW_STATUS_UNSUPPORTED, path_, "tensor '" + e.name + "' has " + std::to_string(e.shape.size()) +
                                           " dimensions, more than " + std::to_string(MSW_MAX_DIMS));
  msw_tensor t{};
  t.data = const_cast<std::byte*>(map_ + data_start_ + e.begin);
  t.device = {MSW_DEVICE_CPU, 0};
  t.dtype = e.msw_dtype;
  msw_tensor_set_dense_shape(&t, static_cast<int32_t>(e.shape.size()), e.shape.data());
  return t;
}

// ---------------------------------------------------------------------------------------------------------------

SafetensorsCheckpoint::SafetensorsCheckpoint(const std::filesystem::path& directory) : directory_(directory) {
  const auto single = directory / "model.safetensors";
  const auto index = directory / "model.safetensors.index.json";
  if (std::filesystem::exists(index)) {
    source_ = index.filename().string();
    nlohmann::json j;
    const std::string index_text = read_text_file(index, "safetensors index", kMaxHeaderBytes);
    try {
      j = nlohmann::json::parse(index_text);
    } catch (const nlohmann::json::exception& e) {
      throw HostError(MSW_STATUS_IO, "index " + index.string() + " is not valid JSON: " + e.what());
    }
    if (!j.contains("weight_map") || !j["weight_map"].is_object())
      throw HostError(MSW_STATUS_IO, "index " + index.string() + " has no \"weight_map\" object");
    for (auto it = j["weight_map"].begin(); it != j["weight_map"].end(); ++it) {
      if (!it->is_string())
        throw HostError(MSW_STATUS_IO, "index " + index.string() + ": weight_map entry '" + it.key() + "' is not a file name");
      std::filesystem::path shard = it->get<std::string>();
      if (shard.is_absolute() || shard.has_parent_path())
        throw HostError(MSW_STATUS_IO, "index " + index.string() + ": shard '" + shard.string() + "' of '" + it.key() +
                                           "' must be a file name inside the model directory");
      if (!std::filesystem::exists(directory / shard))
        throw HostError(MSW_STATUS_NOT_FOUND, "index " + index.string() + " maps '" + it.key() + "' to " + shard.string() +
                                                  ", which does not exist in " + directory.string());
      where_[it.key()] = directory / shard;
    }
    return;
  }
  if (std::filesystem::exists(single)) {
    source_ = single.filename().string();
    const auto& f = open(single);
    for (const auto& e : f.entries()) where_[e.name] = single;
    return;
  }
  throw HostError(MSW_STATUS_NOT_FOUND, "model directory " + directory.string() +
                                            " has neither model.safetensors nor model.safetensors.index.json "
                                            "(only safetensors weights are supported; convert .bin weights first)");
}

SafetensorsCheckpoint SafetensorsCheckpoint::single_file(const std::filesystem::path& file) {
  SafetensorsCheckpoint c;
  c.directory_ = file.parent_path();
  c.source_ = file.filename().string();
  const auto& f = c.open(file);
  for (const auto& e : f.entries()) c.where_[e.name] = file;
  return c;
}

const SafetensorsFile& SafetensorsCheckpoint::open(const std::filesystem::path& file) const {
  auto it = files_.find(file);
  if (it != files_.end()) return *it->second;
  auto f = std::make_unique<SafetensorsFile>(file);
  return *files_.emplace(file, std::move(f)).first->second;
}

std::vector<std::string> SafetensorsCheckpoint::names() const {
  std::vector<std::string> out;
  for (const auto& [name, _] : where_) out.push_back(name);
  return out;
}

TensorRef SafetensorsCheckpoint::get(const std::string& name) const {
  auto it = where_.find(name);
  if (it == where_.end())
    throw HostError(MSW_STATUS_NOT_FOUND, "tensor '" + name + "' is missing from " + (directory_ / source_).string() +
                                              " (" + std::to_string(where_.size()) + " tensors present)");
  const auto& f = open(it->second);
  const auto* e = f.find(name);
  if (!e)
    throw HostError(MSW_STATUS_NOT_FOUND, "tensor '" + name + "' is listed in " + source_ + " under " +
                                              it->second.filename().string() + " but that file does not contain it");
  return {&f, e};
}

TensorRef SafetensorsCheckpoint::require(const std::string& name, std::span<const int32_t> dtypes,
                                         std::span<const int64_t> shape) const {
  TensorRef r = get(name);
  const bool same_shape = std::equal(shape.begin(), shape.end(), r.entry->shape.begin(), r.entry->shape.end());
  if (!same_shape)
    throw HostError(MSW_STATUS_SHAPE_MISMATCH, "tensor '" + name + "' in " + r.file->path().string() + " has shape " +
                                                   shape_string(r.entry->shape) + ", expected " + shape_string(shape));
  if (std::find(dtypes.begin(), dtypes.end(), r.entry->msw_dtype) == dtypes.end()) {
    std::string expected;
    for (size_t i = 0; i < dtypes.size(); ++i) expected += (i ? (i + 1 == dtypes.size() ? " or " : ", ") : "") +
                                                           std::string(safetensors_dtype_name(dtypes[i]));
    throw HostError(MSW_STATUS_SHAPE_MISMATCH, "tensor '" + name + "' in " + r.file->path().string() + " has dtype " +
                                                   r.entry->dtype + ", expected " + expected);
  }
  return r;
}

}  // namespace megaswift::host
