// A model's parameters in a checkpoint: the tensors (stacked layer keys) an instance expects, the common
// state a save records, and filling a ModelRunner's parameters from a checkpoint (each parameter reads its
// region by offset, so a checkpoint saved with any sharding loads).
#pragma once

#include "host/checkpoint/format.hpp"
#include "host/checkpoint/load.hpp"
#include "host/model/model_plugin.hpp"
#include "host/model/model_runner.hpp"

#include <nlohmann/json.hpp>

#include <string>
#include <vector>

namespace megaswift::host {

struct ParamShape {
  std::string name;  // Megatron name
  std::vector<int64_t> shape;
  int32_t layer = -1;
};

// The instance's parameter table (names and global shapes).
std::vector<ParamShape> parameter_shapes(const ModelInstance& instance);

// The checkpoint tensors (unique keys, stacked layers) of the instance's parameters.
std::vector<ExpectedTensor> expected_tensors(const ModelInstance& instance);

// The common state of a save: iteration, checkpoint_version 3.0, args, and null scheduler / RNG / data state.
nlohmann::json common_state(int64_t iteration, const nlohmann::json& args);

// "model_type qwen2 (hidden_size 64, num_layers 2)" from a common state's args, for messages; empty if unknown.
std::string recorded_model(const nlohmann::json& common);

// The runner's parameters (fp32) as checkpoint shards: one per parameter, layers at their stacked offsets.
// The shards point into the runner's memory.
std::vector<TensorShard> parameter_shards(const ModelRunner& runner);

// Checks the checkpoint against the runner's model, then reads every parameter (as fp32) from it.
void load_parameters(ModelRunner& runner, const CheckpointReader& reader, const std::string& recorded = "");

}  // namespace megaswift::host
