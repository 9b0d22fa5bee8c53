// Helpers for the safetensors tests: scratch directories, tensors over std::vector storage, raw files.
#pragma once

#include <megaswift/c/tensor.h>
#include <megaswift/sdk/status.hpp>

#include <doctest/doctest.h>

#include <cstdint>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <string>
#include <unistd.h>
#include <vector>

namespace st_test {

namespace fs = std::filesystem;

// This process's scratch root, removed when the test program exits.
inline const fs::path& scratch_root() {
  struct Root {
    fs::path path = fs::temp_directory_path() / ("msw-st-" + std::to_string(::getpid()));
    ~Root() {
      std::error_code ec;
      fs::remove_all(path, ec);
    }
  };
  static const Root root;
  return root.path;
}

// A fresh, empty directory under the scratch root.
inline fs::path scratch(const std::string& name) {
  const fs::path d = scratch_root() / name;
  fs::remove_all(d);
  fs::create_directories(d);
  return d;
}

// A dense CPU tensor view over `bytes`.
inline msw_tensor view(void* bytes, int32_t dtype, std::vector<int64_t> shape) {
  msw_tensor t{};
  t.data = bytes;
  t.device = {MSW_DEVICE_CPU, 0};
  t.dtype = dtype;
  msw_tensor_set_dense_shape(&t, static_cast<int32_t>(shape.size()), shape.data());
  return t;
}

// Deterministic bytes for a tensor: a different pattern per seed.
inline std::vector<char> pattern(size_t n, uint32_t seed) {
  std::vector<char> v(n);
  uint32_t x = seed * 2654435761u + 12345u;
  for (size_t i = 0; i < n; ++i) {
    x = x * 1664525u + 1013904223u;
    v[i] = static_cast<char>(x >> 24);
  }
  return v;
}

// A raw file: 8-byte little-endian length of `header`, `header`, then `data`.
inline void write_raw(const fs::path& p, const std::string& header, const std::string& data, int64_t len_override = -1) {
  std::ofstream f(p, std::ios::binary | std::ios::trunc);
  uint64_t n = len_override >= 0 ? static_cast<uint64_t>(len_override) : header.size();
  for (int i = 0; i < 8; ++i, n >>= 8) f.put(static_cast<char>(n & 0xFF));
  f << header << data;
}

inline std::string read_file(const fs::path& p) {
  std::ifstream f(p, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(f), {});
}

// Runs `f`, expecting an Error with `code` whose message contains every one of `parts`.
template <class F>
void expect_error(F&& f, msw_status_code code, std::initializer_list<std::string> parts) {
  try {
    f();
    FAIL("expected an error containing: " << *parts.begin());
  } catch (const megaswift::sdk::Error& e) {
    const std::string m = e.what();
    INFO("message: " << m);
    CHECK(e.code() == code);
    for (const std::string& p : parts) CHECK_MESSAGE(m.find(p) != std::string::npos, "missing \"" << p << "\"");
  }
}

}  // namespace st_test
