#include "abi_test_support.hpp"

#include "host/core/status.hpp"
#include "scratch_dir.hpp"

#include <unistd.h>

namespace megaswift::abi_test {
namespace fs = std::filesystem;

fs::path fresh_temp_dir(const std::string& name) {
  const fs::path dir = megaswift::testing::scratch_dir("megaswift_abi_" + name);
  fs::remove_all(dir);  // fresh on every call, not only the first of the process
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
