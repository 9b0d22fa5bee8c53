// Shared pieces of the checkpoint-core tests: the registry with the rawdir test double (and the first-party
// model plugins), scratch directories, and synthetic tensors.
#pragma once

#include "host/checkpoint/format.hpp"
#include "host/plugin_host/registry.hpp"

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

namespace ckpt_test {

const megaswift::host::PluginRegistry& registry();
megaswift::host::CheckpointFormat rawdir();

// A fresh empty directory under the system temp folder, removed at exit of the scope.
struct ScratchDir {
  explicit ScratchDir(const std::string& tag);
  ~ScratchDir();
  std::filesystem::path path;
};

// `n` elements of `dtype` with distinct, reproducible bit patterns (no NaN).
std::vector<uint8_t> pattern(int32_t dtype, int64_t n, uint32_t seed);
msw_tensor cpu_view(const void* data, int32_t dtype, const std::vector<int64_t>& shape);

}  // namespace ckpt_test
