#include "host/checkpoint/keys.hpp"

#include "host/core/status.hpp"

namespace megaswift::host {

std::optional<std::pair<int64_t, std::string>> split_layer_name(const std::string& name) {
  static const std::string prefix = "decoder.layers.";
  if (name.rfind(prefix, 0) != 0) return std::nullopt;
  const size_t start = prefix.size(), dot = name.find('.', start);
  if (dot == std::string::npos || dot == start) return std::nullopt;
  int64_t layer = 0;
  for (size_t i = start; i < dot; ++i) {
    if (name[i] < '0' || name[i] > '9') return std::nullopt;
    layer = layer * 10 + (name[i] - '0');
  }
  return std::make_pair(layer, name.substr(dot + 1));
}

ShardedKey sharded_region(const std::string& name, const std::vector<int64_t>& shape, int64_t num_layers,
                          const std::vector<int64_t>& local_offset, const std::vector<int64_t>& local_shape) {
  if (local_offset.size() != shape.size() || local_shape.size() != shape.size())
    throw HostError(MSW_STATUS_INTERNAL, "region of " + name + " has the wrong rank");
  ShardedKey k;
  if (auto split = split_layer_name(name)) {
    if (split->first >= num_layers)
      throw HostError(MSW_STATUS_INVALID_ARGUMENT, "parameter " + name + " names layer " + std::to_string(split->first) +
                                                       " of a model with " + std::to_string(num_layers) + " layers");
    k.key = "decoder.layers." + split->second;
    k.global_shape.push_back(num_layers);
    k.offset.push_back(split->first);
    k.shape.push_back(1);
  } else {
    k.key = name;
  }
  k.global_shape.insert(k.global_shape.end(), shape.begin(), shape.end());
  k.offset.insert(k.offset.end(), local_offset.begin(), local_offset.end());
  k.shape.insert(k.shape.end(), local_shape.begin(), local_shape.end());
  return k;
}

ShardedKey sharded_key(const std::string& name, const std::vector<int64_t>& shape, int64_t num_layers) {
  return sharded_region(name, shape, num_layers, std::vector<int64_t>(shape.size(), 0), shape);
}

}  // namespace megaswift::host
