// Shared by the ABI suites: where the test plugins are, and small builders.
#pragma once

#include "host/plugin_host/registry.hpp"

#include <megaswift/c/tensor.h>

#include <filesystem>
#include <string>

namespace megaswift::abi_test {

inline const std::filesystem::path kPluginDir = MSW_ABI_PLUGIN_DIR;

// An empty directory under the temp folder, unique to this process.
std::filesystem::path fresh_temp_dir(const std::string& name);

// The message of the HostError load_library throws, or "" when the library loads.
std::string load_error(host::PluginRegistry& registry, const std::filesystem::path& path);

// A dense CPU descriptor over `data`.
msw_tensor cpu_tensor(void* data, int32_t dtype, std::initializer_list<int64_t> shape);
inline msw_tensor cpu_f32(float* data, int64_t n) { return cpu_tensor(data, MSW_DTYPE_F32, {n}); }

// The message of a status, which is freed.
std::string take_message(msw_status* status);

}  // namespace megaswift::abi_test
