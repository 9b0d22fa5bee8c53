#include "host/checkpoint/model_io.hpp"

#include "host/checkpoint/keys.hpp"
#include "host/core/status.hpp"

#include <set>

using nlohmann::json;

namespace megaswift::host {

std::vector<ParamShape> parameter_shapes(const ModelInstance& instance) {
  const auto& vt = instance.vt();
  const int64_t n = vt.param_count(instance.self());
  std::vector<ParamShape> out;
  for (int64_t i = 0; i < n; ++i) {
    msw_param_info info{};
    info.struct_size = sizeof(info);
    throw_if_error(vt.param_info(instance.self(), i, &info), "model " + instance.name() + ": param_info");
    out.push_back({info.name, std::vector<int64_t>(info.shape, info.shape + info.ndim), info.layer});
  }
  return out;
}

std::vector<ExpectedTensor> expected_tensors(const ModelInstance& instance) {
  const int64_t layers = instance.describe().num_layers;
  std::vector<ExpectedTensor> out;
  std::set<std::string> seen;
  for (const ParamShape& p : parameter_shapes(instance)) {
    ShardedKey k = sharded_key(p.name, p.shape, layers);
    if (seen.insert(k.key).second) out.push_back({k.key, k.global_shape});
  }
  return out;
}

json common_state(int64_t iteration, const json& args) {
  return json{{"iteration", iteration},
              {"checkpoint_version", 3.0},
              {"args", args},
              {"num_floating_point_operations_so_far", 0},
              {"opt_param_scheduler", nullptr},
              {"rng_state", nullptr},
              {"data_state", nullptr}};
}

std::string recorded_model(const json& common) {
  if (!common.is_object() || !common.contains("args") || !common["args"].is_object()) return "";
  const json& a = common["args"];
  std::string out;
  if (a.contains("model_type") && a["model_type"].is_string()) out += "model_type " + a["model_type"].get<std::string>();
  // Built by appending: GCC 12 warns (-Wrestrict, a false positive) on "(" + string.
  std::string dims;
  for (const char* k : {"hidden_size", "num_layers"}) {
    if (!a.contains(k) || !a[k].is_number_integer()) continue;
    if (!dims.empty()) dims.append(", ");
    dims.append(k).append(" ").append(a[k].dump());
  }
  if (!dims.empty()) {
    if (!out.empty()) out.push_back(' ');
    out.append(1, '(').append(dims).push_back(')');
  }
  return out;
}

std::vector<TensorShard> parameter_shards(const ModelRunner& runner) {
  const int64_t layers = runner.info().num_layers;
  std::vector<TensorShard> out;
  for (const Parameter& p : runner.params()) {
    const ShardedKey k = sharded_key(p.name, p.shape, layers);
    msw_tensor data = p.value;
    msw_tensor_set_dense_shape(&data, static_cast<int32_t>(k.shape.size()), k.shape.data());
    out.push_back({k.key, k.global_shape, k.offset, data});
  }
  return out;
}

void load_parameters(ModelRunner& runner, const CheckpointReader& reader, const std::string& recorded) {
  check_tensors(reader, expected_tensors(runner.instance()), "model plugin " + runner.plugin_name(), recorded);
  const int64_t layers = runner.info().num_layers;
  for (Parameter& p : runner.params()) {
    const ShardedKey k = sharded_key(p.name, p.shape, layers);
    // The region has the checkpoint tensor's rank: a stacked layer reads (1, ...) into the same bytes.
    msw_tensor out = p.value;
    out.ndim = static_cast<int32_t>(k.shape.size());
    msw_tensor_set_dense_shape(&out, out.ndim, k.shape.data());
    if (p.value.device.type == MSW_DEVICE_CPU) {
      reader.read_region(k.key, k.offset, out);
      continue;
    }
    // Checkpoint formats read into host memory; a GPU runner's parameter is filled from a host copy.
    std::vector<float> staging(static_cast<size_t>(p.numel()));
    out.data = staging.data();
    out.byte_offset = 0;
    out.device = {MSW_DEVICE_CPU, 0};
    reader.read_region(k.key, k.offset, out);
    runner.write_value(p, staging.data());
  }
  runner.weights_changed();  // the fp32 main weights were read in place: mixed precision recasts its copies
}

}  // namespace megaswift::host
