// The model plugin behind an HF model_type, and an owned instance of it.
#pragma once

#include "host/plugin_host/registry.hpp"

#include <megaswift/c/model.h>

#include <string>
#include <vector>

namespace megaswift::host {

struct ModelComponent {
  const LoadedComponent* component = nullptr;
  msw_model_vtable vtable{};  // zero-extended copy
  std::vector<std::string> hf_model_types;
};

// Every loaded model component with the HF model types it serves.
std::vector<ModelComponent> model_components(const PluginRegistry& registry);

// The component that serves `model_type`; throws HostError (NOT_FOUND) listing every model plugin and the
// model types it serves (and libraries that were refused) when none does.
// `source` (e.g. the config.json path) prefixes the message when given.
ModelComponent select_model_component(const PluginRegistry& registry, const std::string& model_type,
                                      const std::string& source = "");

// The "model_type" of an HF config.json text; HostError naming the file when absent.
std::string hf_model_type(const std::string& hf_config_json, const std::string& source);

// vtable.config_from_hf with the buffer protocol handled; HostError with the plugin's message on failure.
std::string transformer_config_from_hf(const ModelComponent& model, const std::string& hf_config_json,
                                       const std::string& source);

// An instance of a model component, destroyed with it.
class ModelInstance {
 public:
  ModelInstance(const ModelComponent& model, const std::string& transformer_config_json);
  ~ModelInstance();
  ModelInstance(ModelInstance&& other) noexcept;
  ModelInstance& operator=(ModelInstance&&) = delete;
  ModelInstance(const ModelInstance&) = delete;

  void* self() const { return self_; }
  const msw_model_vtable& vt() const { return model_.vtable; }
  const ModelComponent& model() const { return model_; }
  const std::string& name() const { return model_.component->name; }

 private:
  ModelComponent model_;
  void* self_ = nullptr;
};

}  // namespace megaswift::host
