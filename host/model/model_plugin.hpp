// The model plugin behind an HF model_type, an owned instance of it, and the check that refuses a parallel
// layout the instance cannot run (model.h capabilities).
#pragma once

#include "host/plugin_host/registry.hpp"

#include <megaswift/c/model.h>

#include <cstdint>
#include <string>
#include <vector>

namespace megaswift::host {

struct ModelComponent {
  std::string name;                           // the component's name ("qwen2"), for messages
  const LoadedComponent* component = nullptr; // NULL for a vtable that is not from the registry (tests)
  msw_model_vtable vtable{};                  // zero-extended copy
  std::vector<std::string> hf_model_types;
};

// A model component from a vtable (zero-extended through its struct_size); HostError naming the first
// missing required entry.
ModelComponent model_component_of(const std::string& name, const msw_model_vtable* vtable,
                                  const LoadedComponent* component = nullptr);

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
  const std::string& name() const { return model_.name; }

  // The instance's transformer config with every default filled in (vtable.config_json).
  std::string config_json() const;
  msw_model_caps capabilities() const;
  msw_model_info describe() const;

 private:
  ModelComponent model_;
  void* self_ = nullptr;
};

// The parallel layout and batch layout a run asks of the model (Megatron's flags).
struct ParallelLayout {
  int64_t tensor_parallel = 1;    // --tensor_model_parallel_size
  int64_t context_parallel = 1;   // --context_parallel_size
  int64_t pipeline_parallel = 1;  // --pipeline_model_parallel_size
  bool sequence_parallel = false; // --sequence_parallel
  bool packed = false;            // packed THD batches (--padding_free / --packing)
  std::string recompute = "none"; // --recompute_granularity: none, selective or full
  // Under full recompute (Megatron's meaning): "uniform" recomputes the layers in groups of recompute_num_layers,
  // keeping only each group's input; "block" recomputes the first recompute_num_layers layers one at a time and
  // keeps the rest.
  std::string recompute_method = "uniform";  // --recompute_method
  int64_t recompute_num_layers = 1;          // --recompute_num_layers
};

// Refuses (HostError UNSUPPORTED) a layout the model plugin `plugin` cannot run by its capabilities, naming
// the plugin, the flag, the capability and what to do; e.g. "model plugin 'qwen2' cannot run
// --context_parallel_size 2: it does not declare the capability context_parallel; ...".
void check_layout(const std::string& plugin, const msw_model_caps& caps, int32_t activation_dtype,
                  const ParallelLayout& layout);

}  // namespace megaswift::host
