#include "abi_test_support.hpp"

#include "host/core/status.hpp"

#include <unistd.h>

namespace megaswift::abi_test {
namespace fs = std::filesystem;

fs::path fresh_temp_dir(const std::string& name) {
  fs::path dir = fs::temp_directory_path() / ("megaswift_abi_" + name + "_" + std::to_string(::getpid()));
  fs::remove_all(dir);
  fs::create_directories(dir);
  return dir;
}

std::string load_error(host::PluginRegistry& registry, const fs::path& path) {
  try {
    registry.load_library(path);
  } catch (const host::HostError& e) {
    return e.what();
  }
  return "";
}

msw_tensor cpu_tensor(void* data, int32_t dtype, std::initializer_list<int64_t> shape) {
  msw_tensor t{};
  t.data = data;
  t.device = {MSW_DEVICE_CPU, 0};
  t.dtype = dtype;
  msw_tensor_set_dense_shape(&t, static_cast<int32_t>(shape.size()), shape.begin());
  return t;
}

std::string take_message(msw_status* status) {
  std::string m = status ? status->message : "";
  host::status_free(status);
  return m;
}

}  // namespace megaswift::abi_test
