// The host side of a model: parameters and gradients, the layer loop, activation buffers.
//
// A ModelRunner owns one model plugin instance, every parameter (fp32 values and fp32 gradients, views into
// arenas allocated through msw_host_api.alloc: see kArenaAlignment) and the activations of the last forward: the
// hidden state entering each layer ([S, B, H], sequence first as Megatron-Core), one saved buffer per part
// invocation (embedding, each layer sized by its own entry of memory()'s per-layer array, head) and one shared
// workspace. forward() runs embedding -> layers -> head with the loss sum and token count accumulated into
// device scalars, which are read back on the host after the head (the one host read of a step); backward() walks
// back, accumulating into the gradients (zero_grads() clears them). Tied parameters are one Parameter used by
// two parts, so their gradient is the sum of both uses; a frozen parameter (requires_grad false) gets no gradient.
//
// At construction the runner asks the plugin for its capabilities and refuses a parallel layout it cannot
// run (RunnerOptions::layout), naming the plugin and the capability. Under --recompute_granularity full the
// layers keep nothing from forward; backward calls each layer's forward again (same rng_offset) into one
// shared saved buffer right before its backward.
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

// Memory from msw_host_api.alloc, freed on destruction.
class HostBuffer {
 public:
  HostBuffer() = default;
  // flags: MSW_ALLOC_* (MSW_ALLOC_ZERO: zero-filled).
  HostBuffer(msw_device device, size_t bytes, uint32_t flags = 0);
  ~HostBuffer();
  HostBuffer(HostBuffer&& o) noexcept;
  HostBuffer& operator=(HostBuffer&& o) noexcept;
  HostBuffer(const HostBuffer&) = delete;
  HostBuffer& operator=(const HostBuffer&) = delete;
  void* data() const { return data_; }
  size_t size() const { return bytes_; }
  // The buffer as a dense tensor of `dtype` and `shape` (its bytes must suffice).
  msw_tensor tensor(int32_t dtype, const std::vector<int64_t>& shape) const;
  // The buffer as U8 bytes; absent when it is empty (a part that keeps nothing).
  msw_tensor bytes() const;

 private:
  void release();
  msw_device device_{MSW_DEVICE_CPU, 0};
  void* data_ = nullptr;
  size_t bytes_ = 0;
};

struct Parameter {
  std::string name;
  msw_param_info info{};  // name points at the plugin's string; use `name`
  std::vector<int64_t> shape;
  // value: the fp32 main weight (what the optimizer updates, checkpoints hold and exports read); grad: its fp32
  // gradient; compute: the weight the compute calls read, in the runner's compute dtype: `value` itself in an
  // fp32 run, a 16-bit copy under mixed precision, refreshed from `value` before the next compute call after
  // ModelRunner::weights_changed(). All dense views into the runner's arenas, on the runner's device.
  msw_tensor value{}, grad{}, compute{};
  // The element offset of this parameter in every arena of its runner (ModelRunner::arena_span).
  int64_t arena_offset = 0;
  // False: frozen (the plugin's requires_grad, RunnerOptions::frozen or set_requires_grad); its gradient is
  // not computed and stays as it is (zero after zero_grads).
  bool requires_grad = true;
  int64_t numel() const;
  // Host pointers: only for a runner on the CPU (a GPU runner's parameters are read with read_value()).
  float* values() const { return static_cast<float*>(value.data); }
  float* grads() const { return static_cast<float*>(grad.data); }
};

struct RunnerOptions {
  // Where parameters, activations and compute live: the CPU, or a GPU whose backend was started
  // (host::cuda::register_cuda_backend). Host code reads device data only through copy_to_host.
  msw_device device{MSW_DEVICE_CPU, 0};
  int num_threads = 0;       // <= 0: every core
  // The dtype of the model weights the compute reads and of the activations: F32, or BF16/F16 for mixed
  // precision (fp32 main weights and fp32 gradients are kept beside the 16-bit model weights).
  int32_t compute_dtype = MSW_DTYPE_F32;
  uint64_t seed = 42;        // --seed: initialisation from scratch
  // Settings merged into the transformer config before the instance is created. layout.recompute, when not
  // "none", is added as recompute_granularity.
  std::string config_overrides_json = "{}";
  // The layout the run asks for; refused at construction when the plugin lacks a capability it needs. The
  // runner itself runs one rank: tensor, context, pipeline and sequence parallelism are refused after that.
  ParallelLayout layout;
  // Names of parameters to freeze (no gradient), in addition to those the plugin declares frozen.
  std::vector<std::string> frozen;
};

// One micro-batch. Token tensors are [B, S] row-major (row b, position s at b * S + s).
struct Batch {
  int64_t batch_size = 0;
  int64_t seq_len = 0;
  std::vector<int64_t> input_ids;     // B*S
  std::vector<int64_t> labels;        // B*S position-aligned, -100 = ignored; empty = no loss
  std::vector<int64_t> position_ids;  // B*S, or empty for 0..S-1 (packed: restarting in each sequence)
  // Packed (THD): batch_size 1, seq_len = total tokens, the sequences one after the other.
  bool packed = false;
  std::vector<int32_t> cu_seqlens;    // packed: N+1 cumulative starts, 0 first, total last
  int64_t max_seqlen = 0;             // packed: the longest sequence

  // One sequence and its labels (already shifted: labels[t] is the token after position t; -100 = none).
  struct Row {
    std::vector<int64_t> input_ids;
    std::vector<int64_t> labels;
  };
  // The rows packed one after the other into one THD batch, with cu_seqlens, max_seqlen and position ids
  // restarting at 0 in each row (ms-swift's padding-free batches).
  static Batch pack(const std::vector<Row>& rows);
  // The rows right-padded with `pad_id` to the longest into a [B, S] batch; labels -100 on the padding.
  static Batch pad(const std::vector<Row>& rows, int64_t pad_id = 0);
};

struct ForwardResult {
  double loss_sum = 0;
  int64_t token_count = 0;
  // [S, B, padded V] (activation order) when requested; logit(b, s, v) reads it by batch row.
  std::vector<float> logits;
  int64_t batch_size = 0, seq_len = 0, vocab = 0;
  double loss() const { return token_count ? loss_sum / static_cast<double>(token_count) : 0.0; }
  float logit(int64_t b, int64_t s, int64_t v) const {
    return logits[static_cast<size_t>((s * batch_size + b) * vocab + v)];
  }
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
  // A model component (any vtable; tests build one in-process) from its transformer config, initialised
  // from scratch with options.seed.
  static ModelRunner from_component(const ModelComponent& model, const std::string& transformer_config_json,
                                    const RunnerOptions& options = {});

  ModelRunner(ModelRunner&&) noexcept;
  ~ModelRunner();

  const std::string& plugin_name() const;
  const std::string& transformer_config() const { return transformer_config_; }
  const msw_model_info& info() const { return info_; }
  const msw_model_caps& capabilities() const { return caps_; }
  std::vector<Parameter>& params() { return params_; }
  const std::vector<Parameter>& params() const { return params_; }
  Parameter& param(const std::string& name);  // HostError naming the parameter when absent
  int64_t num_parameters() const;             // elements over all parameters
  const ModelInstance& instance() const { return *instance_; }
  void set_requires_grad(const std::string& name, bool requires_grad);

  // Parameter arenas: the fp32 main values, the fp32 gradients and (mixed precision) the compute copies are each
  // one allocation, a parameter at the same element offset in all three, so that zeroing the gradients, recasting
  // the compute weights, the norms and the optimizer step are one call over a range instead of one per parameter
  // (each a launch on a GPU). Offsets are multiples of kArenaAlignment elements (fp32 views 512-byte, 16-bit views
  // 256-byte apart from the 256-byte aligned base, as model.h wants of its tensors); the padding between
  // parameters is zero in every arena and stays zero, since every op run over a range maps 0 to 0. In arena order
  // come the trainable parameters with weight decay, then those without, then the frozen ones, each group in the
  // plugin's order, so each group is one range until set_requires_grad moves a parameter between groups.
  static constexpr int64_t kArenaAlignment = 128;
  enum class Arena { value, grad, compute };
  enum class ParamGroup { decay, no_decay, frozen };
  struct ArenaRange {
    int64_t begin = 0, end = 0;  // elements
  };
  static ParamGroup group_of(const Parameter& p);
  // Elements of each arena, padding included.
  int64_t arena_elements() const { return arena_elements_; }
  // Elements [begin, end) of one arena as a dense 1-D tensor (compute: the value arena in an fp32 run).
  msw_tensor arena_span(Arena arena, int64_t begin, int64_t end) const;
  // The range from the first element of these parameters (indices into params()) to the last, when they sit
  // next to each other in the arena with nothing but padding between them; absent otherwise or when empty.
  std::optional<ArenaRange> arena_range(const std::vector<size_t>& params) const;
  // The parameters of a group as requires_grad says now (indices into params(), in arena order).
  std::vector<size_t> group_params(ParamGroup group) const;
  // Bytes the parameter arenas hold.
  uint64_t parameter_bytes() const { return value_arena_.size() + grad_arena_.size() + compute_arena_.size(); }

  void init_from_scratch(uint64_t seed);
  // Says the fp32 main weights (Parameter::value) were written by someone else (the optimizer step, a checkpoint
  // load): under mixed precision the 16-bit compute copies are refreshed before the next compute call.
  void weights_changed() { compute_stale_ = true; }
  // The dtype of the compute weights and activations (RunnerOptions::compute_dtype).
  int32_t compute_dtype() const { return info_.activation_dtype; }
  // A parameter's values (or gradient) as host floats, and writing its values from host floats, on any device.
  std::vector<float> read_value(const Parameter& p, bool gradient = false) const;
  void write_value(Parameter& p, const float* values);
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

  // memory() of the plugin for a batch shape (per-layer saved sizes in the vector).
  struct Memory {
    uint64_t embedding_saved = 0, head_saved = 0, workspace = 0;
    std::vector<uint64_t> layer_saved, kv_bytes_per_token;
  };
  Memory memory(int64_t batch_size, int64_t seq_len, bool packed = false, int64_t max_seqlen = 0,
                bool recompute_full = false) const;
  const msw_exec_ctx& exec_ctx() const { return ctx_; }
  // Bytes of the activation buffers held for the last batch shape (hidden states, saved tensors of the kept and
  // recomputed layers, embedding and head, workspace, gradient scratch): what the recompute settings change.
  uint64_t activation_bytes() const;
  // The parameter values one part's compute calls take, in the plugin's order: MSW_MODEL_PART_EMBEDDING,
  // MSW_MODEL_PART_HEAD, or MSW_MODEL_PART_LAYER with `layer` (for callers that drive the plugin themselves,
  // such as KV-cache decoding).
  const std::vector<msw_tensor>& part_values(int32_t part, int64_t layer = -1) const;
  // The counter the dropout streams are keyed by (one per forward); a resumed run restores it so its dropout
  // masks continue the saved run's.
  uint64_t rng_step() const { return step_; }
  void set_rng_step(uint64_t step) { step_ = step; }

 private:
  ModelRunner(ModelComponent model, std::string transformer_config, const RunnerOptions& options);
  void build_parameters(const std::vector<std::string>& frozen);
  void rebuild_grad_views();
  void prepare_activations(const Batch& batch);
  msw_model_batch make_batch(const Batch& batch) const;
  void upload_batch(const Batch& batch);
  bool on_cpu() const { return ctx_.device.type == MSW_DEVICE_CPU; }
  msw_model_call make_call() const;
  bool recompute_full() const { return layout_.recompute == "full"; }
  bool recomputed(int64_t layer) const { return recompute_begin_[static_cast<size_t>(layer)] >= 0; }
  // The recompute groups of layout_ (recompute_begin_/end_).
  void plan_recompute();
  msw_tensor hidden(int64_t index, const std::vector<int64_t>& shape) const;
  bool mixed_precision() const { return info_.activation_dtype != MSW_DTYPE_F32; }
  // Casts every stale fp32 main weight into its compute copy (mixed precision only).
  void refresh_compute_weights() const;
  size_t act_size() const { return msw_dtype_size(info_.activation_dtype); }

  std::unique_ptr<ModelInstance> instance_;
  std::string transformer_config_;
  msw_model_info info_{};
  msw_model_caps caps_{};
  ParallelLayout layout_;
  msw_exec_ctx ctx_{};
  std::vector<Parameter> params_;
  HostBuffer value_arena_, grad_arena_, compute_arena_;  // compute_arena_: mixed precision only
  int64_t arena_elements_ = 0;
  std::vector<size_t> arena_rank_;  // per parameter: its position in arena order
  // Per part: indices into params_ in the order the plugin's calls expect.
  std::vector<int64_t> embedding_params_, head_params_;
  std::vector<std::vector<int64_t>> layer_params_;
  std::vector<msw_tensor> embedding_values_, embedding_grads_, head_values_, head_grads_;
  std::vector<std::vector<msw_tensor>> layer_values_, layer_grads_;

  // Activations for one batch shape.
  struct Shape {
    int64_t b = 0, s = 0, max_seqlen = 0;
    bool packed = false;
    bool operator==(const Shape& o) const {
      return b == o.b && s == o.s && max_seqlen == o.max_seqlen && packed == o.packed;
    }
  };
  Shape shape_;
  Memory mem_;
  std::vector<HostBuffer> hidden_;  // [S, B, H] buffers; layer l reads hidden_[hidden_slot_[l]]
  std::vector<size_t> hidden_slot_;  // num_layers + 1 entries (the last: the head's input)
  std::vector<HostBuffer> layer_saved_;  // empty for recomputed layers
  // Full recompute: layer l belongs to the group [recompute_begin_[l], recompute_end_[l]) recomputed together in
  // backward (-1: the layer keeps its saved tensors); recompute_saved_[j] holds the j-th layer of the group.
  std::vector<int64_t> recompute_begin_, recompute_end_;
  std::vector<HostBuffer> recompute_saved_;
  HostBuffer embedding_saved_, head_saved_, workspace_, grad_;
  HostBuffer loss_sum_, token_count_;  // device scalars: F64 and I64
  msw_exec_ctx host_ctx_{};            // the CPU context of host-side conversions (loading, exporting)
  // The batch's token tensors on the device (a GPU runner uploads them; a CPU one points at the Batch).
  HostBuffer batch_ids_, batch_positions_, batch_labels_, batch_cu_seqlens_;
  HostBuffer logits_;                  // device logits when a GPU forward is asked for them
  // The batch of the last forward (backward needs it).
  Batch last_batch_;
  bool have_forward_ = false;
  uint64_t step_ = 0;  // rng offsets: the same for a layer's forward and its recompute
  mutable bool compute_stale_ = false;
};

}  // namespace megaswift::host
