#include "core_support.hpp"

#include "host/core/host_api.hpp"

#include <cstdlib>
#include <cstring>
#include <unistd.h>

namespace fs = std::filesystem;
namespace host = megaswift::host;

namespace ckpt_test {

const host::PluginRegistry& registry() {
  static host::PluginRegistry r = [] {
    host::PluginRegistry reg(host::host_api());
    const char* b = std::getenv("MEGASWIFT_BINARY_DIR");
    reg.load_directories({fs::path(MSW_CKPT_TEST_PLUGIN_DIR),
                          fs::path(b ? b : MEGASWIFT_TEST_BINARY_DIR) / "lib" / "megaswift" / "plugins"});
    return reg;
  }();
  return r;
}

host::CheckpointFormat rawdir() {
  return host::CheckpointFormat(host::require_checkpoint_format(registry(), "rawdir"));
}

ScratchDir::ScratchDir(const std::string& tag) {
  path = fs::temp_directory_path() / ("msw_ckpt_" + tag + "_" + std::to_string(::getpid()));
  fs::remove_all(path);
  fs::create_directories(path);
}
ScratchDir::~ScratchDir() {
  std::error_code ec;
  fs::remove_all(path, ec);
}

std::vector<uint8_t> pattern(int32_t dtype, int64_t n, uint32_t seed) {
  const size_t es = msw_dtype_size(dtype);
  std::vector<uint8_t> out(static_cast<size_t>(n) * es);
  uint32_t x = seed * 2654435761u + 1;
  for (int64_t i = 0; i < n; ++i) {
    x = x * 1664525u + 1013904223u;
    // Exponent bits kept away from all-ones so no NaN/inf appears; mantissa bits vary.
    if (es == 4) {
      const uint32_t v = (x & 0x807fffffu) | (0x3c000000u + ((x >> 8) & 0x00800000u));
      std::memcpy(&out[static_cast<size_t>(i) * 4], &v, 4);
    } else {
      const uint16_t v = static_cast<uint16_t>((x >> 16) & 0x83ffu) | 0x3c00u;
      std::memcpy(&out[static_cast<size_t>(i) * 2], &v, 2);
    }
  }
  return out;
}

msw_tensor cpu_view(const void* data, int32_t dtype, const std::vector<int64_t>& shape) {
  msw_tensor t{};
  t.data = const_cast<void*>(data);
  t.device = {MSW_DEVICE_CPU, 0};
  t.dtype = dtype;
  msw_tensor_set_dense_shape(&t, static_cast<int32_t>(shape.size()), shape.data());
  return t;
}

}  // namespace ckpt_test
