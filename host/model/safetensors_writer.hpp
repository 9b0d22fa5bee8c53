// Writing safetensors files in the layout the reference writer produces: {"__metadata__":{"format":"pt"}}
// first, tensors ordered by dtype alignment (largest first) then name, the header padded with spaces to a
// multiple of 8 bytes. HF transformers, the safetensors package and our reader all accept it.
#pragma once

#include <megaswift/c/tensor.h>

#include <filesystem>
#include <string>
#include <utility>
#include <vector>

namespace megaswift::host {

// Writes contiguous CPU tensors to `path` (atomically: a temporary file renamed at the end). Throws HostError
// for a non-contiguous or non-CPU tensor, a duplicate name, or an I/O failure.
void write_safetensors(const std::filesystem::path& path, const std::vector<std::pair<std::string, msw_tensor>>& tensors);

}  // namespace megaswift::host
