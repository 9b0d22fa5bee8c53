// Megatron-Core's sharded-state-dict keys for model parameters. Homogeneous decoder layers are stacked, as
// torch_dist saves them: "decoder.layers.<i>.<rest>" is stored under "decoder.layers.<rest>" with global shape
// (L, ...) and layer i as the shard at offset [i, 0, ...] of shape (1, ...). Every other parameter keeps its
// name and shape.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace megaswift::host {

struct ShardedKey {
  std::string key;                    // the checkpoint key
  std::vector<int64_t> global_shape;  // of the checkpoint tensor
  std::vector<int64_t> offset;        // where the parameter lies in it
  std::vector<int64_t> shape;         // the parameter's extent in it ((1, ...) for a stacked layer)
};

// The layer index and the rest of "decoder.layers.<i>.<rest>"; nullopt for any other name.
std::optional<std::pair<int64_t, std::string>> split_layer_name(const std::string& name);

// Where parameter `name` of shape `shape` lives in a checkpoint of a model with `num_layers` decoder layers.
ShardedKey sharded_key(const std::string& name, const std::vector<int64_t>& shape, int64_t num_layers);

// The same for a region of the parameter (a tensor-parallel slice): `local_offset`/`local_shape` within it.
ShardedKey sharded_region(const std::string& name, const std::vector<int64_t>& shape, int64_t num_layers,
                          const std::vector<int64_t>& local_offset, const std::vector<int64_t>& local_shape);

}  // namespace megaswift::host
