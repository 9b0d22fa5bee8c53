// A model instance's HF mapping records as plain values (the records walked through their element size), and
// the HF tensors of one record read from a safetensors directory.
#pragma once

#include "host/model/model_plugin.hpp"
#include "host/model/safetensors.hpp"

#include <cstdint>
#include <string>
#include <vector>

namespace megaswift::exporter {

struct HfTensor {
  std::string name;
  std::vector<int64_t> shape;
  int64_t numel() const;
};

struct Mapping {
  int64_t index = 0;             // the record's index for hf_to_megatron / megatron_to_hf
  std::string megatron_name;
  std::vector<int64_t> megatron_shape;
  std::vector<HfTensor> hf;
};

// Every record of the instance with the Megatron parameter's shape from the parameter table.
std::vector<Mapping> hf_mappings(const host::ModelInstance& instance);

int64_t numel(const std::vector<int64_t>& shape);
msw_tensor cpu_tensor(const void* data, int32_t dtype, const std::vector<int64_t>& shape);

}  // namespace megaswift::exporter
