#include "host/model/model_plugin.hpp"

#include "host/core/status.hpp"
#include "host/core/text_io.hpp"

#include <nlohmann/json.hpp>

#include <cstring>
#include <utility>

namespace megaswift::host {

namespace {

}  // namespace

ModelComponent model_component_of(const std::string& name, const msw_model_vtable* vtable,
                                  const LoadedComponent* component) {
  ModelComponent m;
  m.name = name;
  m.component = component;
  const uint32_t size = vtable ? vtable->struct_size : 0;
  if (vtable) std::memcpy(&m.vtable, vtable, size < sizeof(m.vtable) ? size : sizeof(m.vtable));
  if (const char* missing = msw_model_vtable_missing_required(&m.vtable))
    throw HostError(MSW_STATUS_INVALID_ARGUMENT, "model plugin '" + name + "' lacks the required entry " + missing);
  for (const char* const* t = m.vtable.hf_model_types(); t && *t; ++t) m.hf_model_types.emplace_back(*t);
  return m;
}

std::vector<ModelComponent> model_components(const PluginRegistry& registry) {
  std::vector<ModelComponent> out;
  for (const LoadedComponent* c : registry.list(MSW_KIND_MODEL))
    out.push_back(model_component_of(c->name, static_cast<const msw_model_vtable*>(c->vtable), c));
  return out;
}

ModelComponent select_model_component(const PluginRegistry& registry, const std::string& model_type,
                                      const std::string& source) {
  const auto all = model_components(registry);
  for (const auto& m : all)
    for (const auto& t : m.hf_model_types)
      if (t == model_type) return m;
  std::string message = (source.empty() ? "" : source + ": ") + "no model plugin serves HF model_type \"" +
                        model_type + "\". ";
  if (all.empty()) {
    message += "No model plugins are loaded: point --plugin_path or MEGASWIFT_PLUGIN_PATH at the directory holding "
               "libmegaswift_model_*.so.";
  } else {
    message += "Model plugins: ";
    for (size_t i = 0; i < all.size(); ++i) {
      message += (i ? "; " : "") + all[i].name + " (";
      for (size_t j = 0; j < all[i].hf_model_types.size(); ++j) message += (j ? ", " : "") + all[i].hf_model_types[j];
      message += ")";
    }
    message += ".";
  }
  for (const auto& r : registry.refused()) message += " Refused library " + r.library_path.string() + ": " + r.reason + ".";
  throw HostError(MSW_STATUS_NOT_FOUND, message);
}

std::string hf_model_type(const std::string& hf_config_json, const std::string& source) {
  nlohmann::json j;
  try {
    j = nlohmann::json::parse(hf_config_json);
  } catch (const nlohmann::json::exception& e) {
    throw HostError(MSW_STATUS_INVALID_ARGUMENT, source + " is not valid JSON: " + e.what());
  }
  if (!j.is_object() || !j.contains("model_type") || !j["model_type"].is_string())
    throw HostError(MSW_STATUS_INVALID_ARGUMENT, source + " is missing the field \"model_type\" (a string such as "
                                                          "\"qwen2\" naming the architecture)");
  return j["model_type"].get<std::string>();
}

std::string transformer_config_from_hf(const ModelComponent& model, const std::string& hf_config_json,
                                       const std::string& source) {
  return read_plugin_text([&](char* out, size_t capacity,
                       size_t* needed) { return model.vtable.config_from_hf(hf_config_json.c_str(), out, capacity, needed); },
                   source + " (model plugin " + model.name + ")");
}

ModelInstance::ModelInstance(const ModelComponent& model, const std::string& transformer_config_json) : model_(model) {
  throw_if_error(model_.vtable.create(transformer_config_json.c_str(), &self_), "creating model " + model_.name);
}

ModelInstance::~ModelInstance() {
  if (self_) model_.vtable.destroy(self_);
}

ModelInstance::ModelInstance(ModelInstance&& other) noexcept
    : model_(std::move(other.model_)), self_(std::exchange(other.self_, nullptr)) {}

std::string ModelInstance::config_json() const {
  return read_plugin_text([&](char* out, size_t capacity,
                       size_t* needed) { return model_.vtable.config_json(self_, out, capacity, needed); },
                   "model " + model_.name + ": config_json");
}

msw_model_caps ModelInstance::capabilities() const {
  msw_model_caps caps{};
  caps.struct_size = sizeof(caps);
  throw_if_error(model_.vtable.capabilities(self_, &caps), "model " + model_.name + ": capabilities");
  return caps;
}

msw_model_info ModelInstance::describe() const {
  msw_model_info info{};
  info.struct_size = sizeof(info);
  throw_if_error(model_.vtable.describe(self_, &info), "model " + model_.name + ": describe");
  return info;
}

void check_layout(const std::string& plugin, const msw_model_caps& caps, int32_t activation_dtype,
                  const ParallelLayout& layout) {
  auto refuse = [&](const std::string& flag, const char* capability, const std::string& instead) {
    throw HostError(MSW_STATUS_UNSUPPORTED, "model plugin '" + plugin + "' cannot run " + flag +
                                                ": it does not declare the capability " + capability + "; " + instead +
                                                ", or use a model plugin that declares it");
  };
  auto has = [&](uint64_t bit) { return (caps.flags & bit) != 0; };
  const std::string tp = std::to_string(layout.tensor_parallel), cp = std::to_string(layout.context_parallel);
  if (layout.tensor_parallel > 1) {
    if (!has(MSW_CAP_TENSOR_PARALLEL))
      refuse("--tensor_model_parallel_size " + tp, "tensor_parallel", "run with --tensor_model_parallel_size 1");
    if (caps.max_tensor_parallel > 0 && layout.tensor_parallel > caps.max_tensor_parallel)
      throw HostError(MSW_STATUS_UNSUPPORTED, "model plugin '" + plugin + "' cannot run --tensor_model_parallel_size " +
                                                  tp + ": it runs at most " + std::to_string(caps.max_tensor_parallel) +
                                                  " tensor-parallel ranks");
  }
  if (layout.sequence_parallel && !has(MSW_CAP_SEQUENCE_PARALLEL))
    refuse("--sequence_parallel", "sequence_parallel", "run without --sequence_parallel");
  if (layout.context_parallel > 1) {
    if (!has(MSW_CAP_CONTEXT_PARALLEL))
      refuse("--context_parallel_size " + cp, "context_parallel", "run with --context_parallel_size 1");
    if (caps.max_context_parallel > 0 && layout.context_parallel > caps.max_context_parallel)
      throw HostError(MSW_STATUS_UNSUPPORTED, "model plugin '" + plugin + "' cannot run --context_parallel_size " + cp +
                                                  ": it runs at most " + std::to_string(caps.max_context_parallel) +
                                                  " context-parallel ranks");
  }
  if (layout.pipeline_parallel > 1 && !has(MSW_CAP_PIPELINE_PARALLEL))
    refuse("--pipeline_model_parallel_size " + std::to_string(layout.pipeline_parallel), "pipeline_parallel",
           "run with --pipeline_model_parallel_size 1");
  if (layout.packed && !has(MSW_CAP_PACKED_SEQUENCES))
    refuse("packed sequences (--padding_free, --packing)", "packed_sequences", "run without --padding_free and --packing");
  if (layout.recompute == "selective" && !has(MSW_CAP_RECOMPUTE_SELECTIVE))
    refuse("--recompute_granularity selective", "recompute_selective", "use --recompute_granularity none");
  if (layout.recompute == "full" && !has(MSW_CAP_RECOMPUTE_FULL))
    refuse("--recompute_granularity full", "recompute_full", "use --recompute_granularity selective or none");
  if (layout.recompute != "none" && layout.recompute != "selective" && layout.recompute != "full")
    throw HostError(MSW_STATUS_INVALID_ARGUMENT, "--recompute_granularity must be none, selective or full, got \"" +
                                                     layout.recompute + "\"");
  if (caps.activation_dtypes && !(caps.activation_dtypes & (uint64_t{1} << activation_dtype)))
    throw HostError(MSW_STATUS_UNSUPPORTED, "model plugin '" + plugin + "' does not accept activations of dtype code " +
                                                std::to_string(activation_dtype) + " (its capabilities list the dtypes "
                                                "its compute entries take)");
}

}  // namespace megaswift::host
