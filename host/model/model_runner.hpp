// The host side of a model: parameters and gradients in host memory, the layer loop, activation buffers.
//
// A ModelRunner owns one model plugin instance, every parameter (fp32 values and fp32 gradients, allocated
// through msw_host_api.alloc) and the activations of the last forward: the hidden state entering each layer,
// one saved buffer per part invocation (embedding, each layer, head) and one shared workspace, all sized by
// the plugin's memory(). forward() runs embedding -> layers -> head; backward() walks back, accumulating
// into the gradients (zero_grads() clears them). Tied parameters are one Parameter used by two parts, so
// their gradient is the sum of both uses.
//
// Used by tests, benchmarks and (later) the training engine, export and inference.
#pragma once

#include "host/model/model_plugin.hpp"
#include "host/model/safetensors.hpp"

#include <megaswift/c/model.h>

#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace megaswift::host {

// Host memory from msw_host_api.alloc, freed on destruction.
class HostBuffer {
 public:
  HostBuffer() = default;
  HostBuffer(msw_device device, size_t bytes);
  ~HostBuffer();
  HostBuffer(HostBuffer&& o) noexcept;
  HostBuffer& operator=(HostBuffer&& o) noexcept;
  HostBuffer(const HostBuffer&) = delete;
  HostBuffer& operator=(const HostBuffer&) = delete;
  void* data() const { return data_; }
  size_t size() const { return bytes_; }
  // The buffer as a dense tensor of `dtype` and `shape` (its bytes must suffice).
  msw_tensor tensor(int32_t dtype, const std::vector<int64_t>& shape) const;

 private:
  msw_device device_{MSW_DEVICE_CPU, 0};
  void* data_ = nullptr;
  size_t bytes_ = 0;
};

struct Parameter {
  std::string name;
  msw_param_info info{};  // name points at the plugin's string; use `name`
  std::vector<int64_t> shape;
  HostBuffer value_buffer, grad_buffer;
  msw_tensor value{}, grad{};  // F32, CPU, dense
  int64_t numel() const;
  float* values() const { return static_cast<float*>(value.data); }
  float* grads() const { return static_cast<float*>(grad.data); }
};

struct RunnerOptions {
  int num_threads = 0;       // <= 0: every core
  uint64_t seed = 42;        // --seed: initialisation from scratch
  // Settings merged into the transformer config before the instance is created (e.g. recompute_granularity).
  std::string config_overrides_json = "{}";
};

struct Batch {
  int64_t batch_size = 0;
  int64_t seq_len = 0;
  std::vector<int64_t> input_ids;     // B*S
  std::vector<int64_t> labels;        // B*S position-aligned, -100 = ignored; empty = no loss
  std::vector<int64_t> position_ids;  // B*S, or empty for 0..S-1
};

struct ForwardResult {
  double loss_sum = 0;
  int64_t token_count = 0;
  std::vector<float> logits;  // (B, S, padded V) when requested
  double loss() const { return token_count ? loss_sum / static_cast<double>(token_count) : 0.0; }
};

class ModelRunner {
 public:
  // Loads an HF model directory: config.json picks the plugin (by model_type) and the safetensors weights
  // (model.safetensors or the index's shards) fill the parameters.
  static ModelRunner from_hf_directory(const PluginRegistry& registry, const std::filesystem::path& dir,
                                       const RunnerOptions& options = {});
  // A model described by an HF config.json text, initialised from scratch with options.seed.
  static ModelRunner from_hf_config(const PluginRegistry& registry, const std::string& hf_config_json,
                                    const RunnerOptions& options = {});

  ModelRunner(ModelRunner&&) noexcept;
  ~ModelRunner();

  const std::string& plugin_name() const;
  const std::string& transformer_config() const { return transformer_config_; }
  const msw_model_info& info() const { return info_; }
  std::vector<Parameter>& params() { return params_; }
  const std::vector<Parameter>& params() const { return params_; }
  Parameter& param(const std::string& name);  // HostError naming the parameter when absent
  int64_t num_parameters() const;             // elements over all parameters
  const ModelInstance& instance() const { return *instance_; }

  void init_from_scratch(uint64_t seed);
  // Loads HF tensors through the plugin's mapping. Every mapped tensor must exist with the HF shape and a
  // floating dtype (F32/BF16/F16 are widened to fp32); errors name tensor, file, expected and found.
  void load_hf(const SafetensorsCheckpoint& checkpoint);
  // The parameters (or their gradients) as HF-named fp32 tensors through the inverse mapping.
  std::vector<std::pair<std::string, std::vector<float>>> export_hf(bool gradients) const;
  std::vector<std::pair<std::string, std::vector<int64_t>>> hf_shapes() const;

  void zero_grads();
  // Runs embedding, every layer and the head; keeps what backward needs.
  ForwardResult forward(const Batch& batch, bool want_logits = false);
  // Backward of the last forward; loss_scale = d objective / d loss_sum (1 / token_count for the mean).
  void backward(double loss_scale);
  // forward + backward of the mean loss.
  ForwardResult forward_backward(const Batch& batch, bool want_logits = false);

  msw_model_memory memory(int64_t batch_size, int64_t seq_len) const;
  const msw_exec_ctx& exec_ctx() const { return ctx_; }

 private:
  ModelRunner(ModelComponent model, std::string transformer_config, const RunnerOptions& options);
  void build_parameters();
  void prepare_activations(int64_t b, int64_t s);
  msw_model_batch make_batch(const Batch& batch);

  std::unique_ptr<ModelInstance> instance_;
  std::string transformer_config_;
  msw_model_info info_{};
  msw_exec_ctx ctx_{};
  std::vector<Parameter> params_;
  // Per part: indices into params_ in the order the plugin's calls expect.
  std::vector<int64_t> embedding_params_, head_params_;
  std::vector<std::vector<int64_t>> layer_params_;
  std::vector<msw_tensor> embedding_values_, embedding_grads_, head_values_, head_grads_;
  std::vector<std::vector<msw_tensor>> layer_values_, layer_grads_;

  // Activations for one (B, S).
  int64_t act_b_ = 0, act_s_ = 0;
  msw_model_memory mem_{};
  std::vector<HostBuffer> hidden_;  // num_layers + 1, (B, S, H)
  std::vector<HostBuffer> layer_saved_;
  HostBuffer embedding_saved_, head_saved_, workspace_, grad_a_, grad_b_;
  // The batch of the last forward (backward needs it).
  Batch last_batch_;
  bool have_forward_ = false;
};

}  // namespace megaswift::host
