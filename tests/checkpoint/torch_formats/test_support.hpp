// Shared helpers of the torch_formats tests: owned tensors with deterministic bits, temp dirs, python.
#pragma once

#include "region.hpp"

#include "scratch_dir.hpp"
#include "test_paths.hpp"

#include <megaswift/sdk/checkpoint.hpp>

#include <nlohmann/json.hpp>

#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

namespace tft {

namespace fs = std::filesystem;
using Json = nlohmann::json;

struct Tensor {
  int32_t dtype = MSW_DTYPE_F32;
  std::vector<int64_t> shape;
  std::vector<uint8_t> bytes;

  Tensor() = default;
  Tensor(int32_t dt, std::vector<int64_t> s, uint64_t seed) : dtype(dt), shape(std::move(s)) {
    bytes.resize(static_cast<size_t>(torchfmt::numel_checked(shape, "t")) * msw_dtype_size(dtype));
    uint64_t x = seed * 0x9E3779B97F4A7C15ull + 1;
    for (size_t i = 0; i < bytes.size(); ++i) {
      x ^= x << 13;
      x ^= x >> 7;
      x ^= x << 17;
      bytes[i] = static_cast<uint8_t>(x);
    }
    // Keep float values finite (bit-exact round trips do not need it, conversion checks do).
    if (dtype == MSW_DTYPE_BF16 || dtype == MSW_DTYPE_F16)
      for (size_t i = 1; i < bytes.size(); i += 2) bytes[i] &= 0x3f;
    if (dtype == MSW_DTYPE_F32)
      for (size_t i = 3; i < bytes.size(); i += 4) bytes[i] &= 0x3f;
  }
  msw_tensor view() const { return view_of(const_cast<uint8_t*>(bytes.data()), shape); }
  msw_tensor view_of(uint8_t* p, const std::vector<int64_t>& s) const {
    msw_tensor t{};
    t.data = p;
    t.device = {MSW_DEVICE_CPU, 0};
    t.dtype = dtype;
    t.ndim = static_cast<int32_t>(s.size());
    const auto st = torchfmt::contiguous_strides(s);
    for (size_t d = 0; d < s.size(); ++d) {
      t.shape[d] = s[d];
      t.strides[d] = st[d];
    }
    return t;
  }
  // The sub-block [off, off + size) as a new dense tensor.
  Tensor slice(const std::vector<int64_t>& off, const std::vector<int64_t>& size) const {
    Tensor out;
    out.dtype = dtype;
    out.shape = size;
    out.bytes.resize(static_cast<size_t>(torchfmt::numel_checked(size, "s")) * msw_dtype_size(dtype));
    torchfmt::ChunkView src{bytes.data(), dtype, std::vector<int64_t>(shape.size(), 0), shape,
                            torchfmt::contiguous_strides(shape)};
    torchfmt::copy_intersection(src, off, out.view());
    return out;
  }
};

inline megaswift::sdk::Shard shard(const std::string& key, const Tensor& global, const Tensor& part,
                                   std::vector<int64_t> offset, int32_t replica = 0) {
  megaswift::sdk::Shard s;
  s.key = key;
  s.global_shape = global.shape;
  s.global_offset = std::move(offset);
  s.replica_id = replica;
  s.data = part.view();
  return s;
}

inline fs::path fresh_dir(const std::string& name) {
  fs::path d = megaswift::testing::scratch_dir("msw_torch_formats") / name;
  fs::remove_all(d);
  fs::create_directories(d);
  return d;
}

// Reads region [off, off+size) of `key` as `dtype` through `reader`.
inline Tensor read(megaswift::sdk::CheckpointReader& r, const std::string& key, int32_t dtype,
                   const std::vector<int64_t>& off, const std::vector<int64_t>& size) {
  Tensor out;
  out.dtype = dtype;
  out.shape = size;
  out.bytes.assign(static_cast<size_t>(torchfmt::numel_checked(size, "r")) * msw_dtype_size(dtype), 0xAB);
  r.read_region(key, off, out.view());
  return out;
}

// The raw bits of each element as a signed int of its width (what the Python checks compare).
inline Json bits_of(const Tensor& t) {
  Json a = Json::array();
  const size_t isz = msw_dtype_size(t.dtype);
  for (size_t i = 0; i < t.bytes.size(); i += isz) {
    int64_t v = 0;
    if (isz == 2) { int16_t x; std::memcpy(&x, &t.bytes[i], 2); v = x; }
    else if (isz == 4) { int32_t x; std::memcpy(&x, &t.bytes[i], 4); v = x; }
    else if (isz == 8) { std::memcpy(&v, &t.bytes[i], 8); }
    else { v = static_cast<int8_t>(t.bytes[i]); }
    a.push_back(v);
  }
  return a;
}

// FNV-1a 64 over the raw little-endian bytes (check_dcp.py computes the same).
inline uint64_t fnv1a(const std::vector<uint8_t>& b) {
  uint64_t h = 0xcbf29ce484222325ull;
  for (uint8_t c : b) {
    h ^= c;
    h *= 0x100000001b3ull;
  }
  return h;
}

// The Debian interpreter with torch, or empty when torch is missing.
inline std::string python_with_torch() {
  for (const char* py : {"/usr/bin/python3", "python3"})
    if (std::system((std::string(py) + " -c 'import torch' >/dev/null 2>&1").c_str()) == 0) return py;
  return "";
}

inline std::vector<uint8_t> read_all(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  return std::vector<uint8_t>(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}
inline void write_text(const fs::path& p, const std::string& s) { std::ofstream(p, std::ios::binary) << s; }

}  // namespace tft
