#include "host/model/model_plugin.hpp"

#include "host/core/status.hpp"

#include <nlohmann/json.hpp>

#include <utility>

namespace megaswift::host {

std::vector<ModelComponent> model_components(const PluginRegistry& registry) {
  std::vector<ModelComponent> out;
  for (const LoadedComponent* c : registry.list(MSW_KIND_MODEL)) {
    ModelComponent m;
    m.component = c;
    m.vtable = PluginRegistry::vtable_copy<msw_model_vtable>(*c);
    for (const char* const* t = m.vtable.hf_model_types(); t && *t; ++t) m.hf_model_types.emplace_back(*t);
    out.push_back(std::move(m));
  }
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
      message += (i ? "; " : "") + all[i].component->name + " (";
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
  const std::string context = source + " (model plugin " + model.component->name + ")";
  size_t needed = 0;
  throw_if_error(model.vtable.config_from_hf(hf_config_json.c_str(), nullptr, 0, &needed), context);
  std::string out(needed, '\0');
  throw_if_error(model.vtable.config_from_hf(hf_config_json.c_str(), out.data(), out.size(), &needed), context);
  out.resize(needed ? needed - 1 : 0);
  return out;
}

ModelInstance::ModelInstance(const ModelComponent& model, const std::string& transformer_config_json) : model_(model) {
  throw_if_error(model_.vtable.create(transformer_config_json.c_str(), &self_),
                 "creating model " + model_.component->name);
}

ModelInstance::~ModelInstance() {
  if (self_) model_.vtable.destroy(self_);
}

ModelInstance::ModelInstance(ModelInstance&& other) noexcept
    : model_(other.model_), self_(std::exchange(other.self_, nullptr)) {}

}  // namespace megaswift::host
