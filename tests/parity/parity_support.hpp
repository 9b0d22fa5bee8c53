// Shared by the parity suites: the plugin registry over the build's plugin folder, fixture paths, and
// reading reference tensors.
#pragma once

#include "host/core/host_api.hpp"
#include "host/model/model_runner.hpp"
#include "host/model/safetensors.hpp"
#include "host/plugin_host/registry.hpp"

#include <cstdlib>
#include <filesystem>
#include <string>
#include <vector>

namespace megaswift::test {

inline std::filesystem::path source_dir() {
  const char* s = std::getenv("MEGASWIFT_SOURCE_DIR");
  return s ? s : MEGASWIFT_TEST_SOURCE_DIR;
}
inline std::filesystem::path binary_dir() {
  const char* b = std::getenv("MEGASWIFT_BINARY_DIR");
  return b ? b : MEGASWIFT_TEST_BINARY_DIR;
}
inline std::filesystem::path fixture_dir(const std::string& name) {
  return source_dir() / "tests" / "fixtures" / "models" / name;
}

// One registry for the process, over <build>/lib/megaswift/plugins (where the build puts the plugins).
inline const host::PluginRegistry& registry() {
  static host::PluginRegistry r = [] {
    host::PluginRegistry reg(host::host_api());
    reg.load_directories({binary_dir() / "lib" / "megaswift" / "plugins"});
    return reg;
  }();
  return r;
}

template <class T>
std::vector<T> read_values(const host::SafetensorsCheckpoint& c, const std::string& name) {
  const host::TensorRef r = c.get(name);
  const auto bytes = r.file->bytes(*r.entry);
  std::vector<T> out(bytes.size() / sizeof(T));
  std::memcpy(out.data(), bytes.data(), bytes.size());
  return out;
}

}  // namespace megaswift::test
