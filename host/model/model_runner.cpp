#include "host/model/model_runner.hpp"

#include "host/core/device_copy.hpp"
#include "host/core/host_api.hpp"
#include "host/core/status.hpp"
#include "host/core/text_io.hpp"
#include "host/model/init.hpp"
#include "host/ops/ops_api.hpp"

#include "kernels/cpu/threading.hpp"

#include <nlohmann/json.hpp>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <cstddef>
#include <cstring>
#include <set>

namespace megaswift::host {

// ------------------------------------------------------------------------------------------------ HostBuffer

HostBuffer::HostBuffer(msw_device device, size_t bytes, uint32_t flags) : device_(device), bytes_(bytes) {
  if (bytes == 0) return;
  msw_alloc_args a{};
  a.struct_size = sizeof(a);
  a.device = device;
  a.bytes = bytes;
  a.flags = flags;
  a.alignment = 256;  // model.h: saved and workspace buffers are 256-byte aligned
  throw_if_error(host_api().alloc(&a, &data_), "allocating " + std::to_string(bytes) + " bytes");
}
void HostBuffer::release() {
  if (!data_) return;
  msw_free_args f{};
  f.struct_size = sizeof(f);
  f.device = device_;
  f.ptr = data_;
  host_api().free(&f);
  data_ = nullptr;
}
HostBuffer::~HostBuffer() { release(); }
HostBuffer::HostBuffer(HostBuffer&& o) noexcept
    : device_(o.device_), data_(std::exchange(o.data_, nullptr)), bytes_(std::exchange(o.bytes_, 0)) {}
HostBuffer& HostBuffer::operator=(HostBuffer&& o) noexcept {
  if (this != &o) {
    release();
    device_ = o.device_;
    data_ = std::exchange(o.data_, nullptr);
    bytes_ = std::exchange(o.bytes_, 0);
  }
  return *this;
}

msw_tensor HostBuffer::tensor(int32_t dtype, const std::vector<int64_t>& shape) const {
  msw_tensor t{};
  t.data = data_;
  t.device = device_;
  t.dtype = dtype;
  const int64_t numel = msw_tensor_set_dense_shape(&t, static_cast<int32_t>(shape.size()), shape.data());
  if (static_cast<size_t>(numel) * msw_dtype_size(dtype) > bytes_)
    throw HostError(MSW_STATUS_INTERNAL, "HostBuffer of " + std::to_string(bytes_) + " bytes is too small for the view");
  return t;
}

msw_tensor HostBuffer::bytes() const {
  if (bytes_ == 0) return {};
  return tensor(MSW_DTYPE_U8, {static_cast<int64_t>(bytes_)});
}

int64_t Parameter::numel() const {
  int64_t n = 1;
  for (int64_t d : shape) n *= d;
  return n;
}

// ------------------------------------------------------------------------------------------------ Batch

Batch Batch::pack(const std::vector<Row>& rows) {
  if (rows.empty()) throw HostError(MSW_STATUS_INVALID_ARGUMENT, "Batch::pack needs at least one row");
  Batch b;
  b.packed = true;
  b.batch_size = 1;
  b.cu_seqlens.push_back(0);
  for (size_t i = 0; i < rows.size(); ++i) {
    const Row& r = rows[i];
    if (r.input_ids.empty() || (!r.labels.empty() && r.labels.size() != r.input_ids.size()))
      throw HostError(MSW_STATUS_INVALID_ARGUMENT, "Batch::pack: row " + std::to_string(i) + " has " +
                                                      std::to_string(r.input_ids.size()) + " tokens and " +
                                                      std::to_string(r.labels.size()) + " labels");
    const int64_t n = static_cast<int64_t>(r.input_ids.size());
    b.input_ids.insert(b.input_ids.end(), r.input_ids.begin(), r.input_ids.end());
    if (r.labels.empty()) b.labels.insert(b.labels.end(), static_cast<size_t>(n), -100);
    else b.labels.insert(b.labels.end(), r.labels.begin(), r.labels.end());
    for (int64_t t = 0; t < n; ++t) b.position_ids.push_back(t);
    b.cu_seqlens.push_back(static_cast<int32_t>(b.input_ids.size()));
    b.max_seqlen = std::max(b.max_seqlen, n);
  }
  b.seq_len = static_cast<int64_t>(b.input_ids.size());
  return b;
}

Batch Batch::pad(const std::vector<Row>& rows, int64_t pad_id) {
  if (rows.empty()) throw HostError(MSW_STATUS_INVALID_ARGUMENT, "Batch::pad needs at least one row");
  Batch b;
  b.batch_size = static_cast<int64_t>(rows.size());
  for (const Row& r : rows) b.seq_len = std::max(b.seq_len, static_cast<int64_t>(r.input_ids.size()));
  for (size_t i = 0; i < rows.size(); ++i) {
    const Row& r = rows[i];
    if (!r.labels.empty() && r.labels.size() != r.input_ids.size())
      throw HostError(MSW_STATUS_INVALID_ARGUMENT, "Batch::pad: row " + std::to_string(i) + " has " +
                                                       std::to_string(r.input_ids.size()) + " tokens and " +
                                                       std::to_string(r.labels.size()) + " labels");
    const size_t pad = static_cast<size_t>(b.seq_len) - r.input_ids.size();
    b.input_ids.insert(b.input_ids.end(), r.input_ids.begin(), r.input_ids.end());
    b.input_ids.insert(b.input_ids.end(), pad, pad_id);
    if (r.labels.empty()) b.labels.insert(b.labels.end(), r.input_ids.size(), -100);
    else b.labels.insert(b.labels.end(), r.labels.begin(), r.labels.end());
    b.labels.insert(b.labels.end(), pad, -100);
  }
  return b;
}

namespace {

msw_tensor cpu_tensor(void* data, int32_t dtype, const std::vector<int64_t>& shape) {
  msw_tensor t{};
  t.data = data;
  t.device = {MSW_DEVICE_CPU, 0};
  t.dtype = dtype;
  msw_tensor_set_dense_shape(&t, static_cast<int32_t>(shape.size()), shape.data());
  return t;
}

const char* params_dtype_name(int32_t dtype) {
  switch (dtype) {
    case MSW_DTYPE_F32: return "float32";
    case MSW_DTYPE_BF16: return "bfloat16";
    case MSW_DTYPE_F16: return "float16";
    default:
      throw HostError(MSW_STATUS_INVALID_ARGUMENT, "compute dtype code " + std::to_string(dtype) +
                                                       " is not a floating dtype the runner computes in (float32, "
                                                       "bfloat16 or float16)");
  }
}

std::string apply_overrides(const std::string& config, const std::string& overrides, const ParallelLayout& layout,
                            int32_t compute_dtype, bool on_gpu) {
  nlohmann::json c = nlohmann::json::parse(config);
  nlohmann::json o;
  try {
    o = nlohmann::json::parse(overrides.empty() ? "{}" : overrides);
  } catch (const nlohmann::json::exception& e) {
    throw HostError(MSW_STATUS_INVALID_ARGUMENT, std::string("config overrides are not valid JSON: ") + e.what());
  }
  if (!o.is_object()) throw HostError(MSW_STATUS_INVALID_ARGUMENT, "config overrides must be a JSON object");
  if (layout.recompute != "none") c["recompute_granularity"] = layout.recompute;
  c["params_dtype"] = params_dtype_name(compute_dtype);
  // The head's logits chunks: 1 GiB on a GPU, where each chunk re-reads the output layer's whole fp32 gradient
  // (a few large chunks, not hundreds of small ones); the plugin's CPU-sized default otherwise.
  if (on_gpu) c["logits_chunk_bytes"] = uint64_t{1} << 30;
  // Keeping the head's logits (T x V bf16: 5 GB for 16,384 tokens of a 151,936 vocabulary) saves an output-layer
  // GEMM in backward (~3% of a Qwen2.5-1.5B step on an H200); full recompute asks for memory instead.
  if (on_gpu) c["keep_logits"] = layout.recompute != "full";
  c.update(o);
  return c.dump();
}

void ensure_ops_installed() {
  if (!host_api().ops) install_ops(&ops_api());
}

// The ModelRunner is the single-process runner: every parameter whole, on one rank. A layout that splits the
// model over ranks is refused after the plugin's capabilities were checked, so the message says which side
// cannot run it.
void check_runner_layout(const ParallelLayout& l) {
  auto refuse = [](const std::string& flag) {
    throw HostError(MSW_STATUS_UNSUPPORTED, "the single-process model runner holds the whole model on one rank, so " +
                                                flag + " does not apply to it; run with the default (1)");
  };
  if (l.tensor_parallel > 1) refuse("--tensor_model_parallel_size " + std::to_string(l.tensor_parallel));
  if (l.context_parallel > 1) refuse("--context_parallel_size " + std::to_string(l.context_parallel));
  if (l.pipeline_parallel > 1) refuse("--pipeline_model_parallel_size " + std::to_string(l.pipeline_parallel));
  if (l.sequence_parallel) refuse("--sequence_parallel");
}

}  // namespace

// ------------------------------------------------------------------------------------------------ construction

ModelRunner::ModelRunner(ModelComponent model, std::string transformer_config, const RunnerOptions& options)
    : layout_(options.layout) {
  ensure_ops_installed();
  transformer_config = apply_overrides(transformer_config, options.config_overrides_json, layout_, options.compute_dtype,
                                       options.device.type != MSW_DEVICE_CPU);
  instance_ = std::make_unique<ModelInstance>(model, transformer_config);
  transformer_config_ = instance_->config_json();
  info_ = instance_->describe();
  caps_ = instance_->capabilities();
  if (info_.activation_dtype != options.compute_dtype)
    throw HostError(MSW_STATUS_UNSUPPORTED,
                    "model " + instance_->name() + " computes in " + params_dtype_name(info_.activation_dtype) +
                        " although the run asks for " + params_dtype_name(options.compute_dtype) +
                        " (the transformer config's params_dtype): the plugin does not support that precision; "
                        "run in " + params_dtype_name(info_.activation_dtype) + " (--bf16 false / --fp16 false)");
  check_layout(instance_->name(), caps_, info_.activation_dtype, layout_);
  check_runner_layout(layout_);
  ctx_.struct_size = sizeof(msw_exec_ctx);
  ctx_.num_threads = options.num_threads > 0 ? options.num_threads : kernels::cpu::available_cores();
  ctx_.device = options.device;
  ctx_.seed = options.seed;
  host_ctx_ = ctx_;
  host_ctx_.device = {MSW_DEVICE_CPU, 0};
  build_parameters(options.frozen);
  loss_sum_ = HostBuffer(ctx_.device, sizeof(double));
  token_count_ = HostBuffer(ctx_.device, sizeof(int64_t));
}

ModelRunner::ModelRunner(ModelRunner&&) noexcept = default;
ModelRunner::~ModelRunner() = default;

ModelRunner ModelRunner::from_hf_directory(const PluginRegistry& registry, const std::filesystem::path& dir,
                                           const RunnerOptions& options) {
  const auto config_path = dir / "config.json";
  if (!std::filesystem::is_directory(dir))
    throw HostError(MSW_STATUS_NOT_FOUND, "model directory " + dir.string() + " does not exist");
  const std::string hf = read_text_file(config_path, "model config");
  const ModelComponent model = select_model_component(registry, hf_model_type(hf, config_path.string()),
                                                        config_path.string());
  ModelRunner runner(model, transformer_config_from_hf(model, hf, config_path.string()), options);
  runner.load_hf(SafetensorsCheckpoint(dir));
  return runner;
}

ModelRunner ModelRunner::from_hf_config(const PluginRegistry& registry, const std::string& hf_config_json,
                                        const RunnerOptions& options) {
  const ModelComponent model = select_model_component(registry, hf_model_type(hf_config_json, "config.json"));
  ModelRunner runner(model, transformer_config_from_hf(model, hf_config_json, "config.json"), options);
  runner.init_from_scratch(options.seed);
  return runner;
}

ModelRunner ModelRunner::from_component(const ModelComponent& model, const std::string& transformer_config_json,
                                        const RunnerOptions& options) {
  ModelRunner runner(model, transformer_config_json, options);
  runner.init_from_scratch(options.seed);
  return runner;
}

const std::string& ModelRunner::plugin_name() const { return instance_->name(); }

void ModelRunner::build_parameters(const std::vector<std::string>& frozen) {
  const auto& vt = instance_->vt();
  const std::string who = "model " + instance_->name();
  const int64_t n = vt.param_count(instance_->self());
  if (n < 0) throw HostError(MSW_STATUS_INTERNAL, who + ": param_count failed (the plugin logged why)");
  params_.resize(static_cast<size_t>(n));
  layer_params_.assign(static_cast<size_t>(info_.num_layers), {});
  for (int64_t i = 0; i < n; ++i) {
    Parameter& p = params_[static_cast<size_t>(i)];
    p.info.struct_size = sizeof(p.info);
    throw_if_error(vt.param_info(instance_->self(), i, &p.info), who + ": param_info");
    p.name = p.info.name;
    p.shape.assign(p.info.shape, p.info.shape + p.info.ndim);
    p.requires_grad = p.info.requires_grad != 0;
    if (p.info.parts & (1u << MSW_MODEL_PART_EMBEDDING)) embedding_params_.push_back(i);
    if (p.info.parts & (1u << MSW_MODEL_PART_HEAD)) head_params_.push_back(i);
    if (p.info.parts & (1u << MSW_MODEL_PART_LAYER)) {
      if (p.info.layer < 0 || p.info.layer >= info_.num_layers)
        throw HostError(MSW_STATUS_INTERNAL, who + ": layer parameter " + p.name + " has layer index " +
                                                 std::to_string(p.info.layer));
      layer_params_[static_cast<size_t>(p.info.layer)].push_back(i);
    }
  }
  // Frozen before the layout, so RunnerOptions::frozen lands in the frozen group.
  for (const auto& name : frozen) param(name).requires_grad = false;

  std::vector<size_t> order;
  for (ParamGroup g : {ParamGroup::decay, ParamGroup::no_decay, ParamGroup::frozen})
    for (size_t i = 0; i < params_.size(); ++i)
      if (group_of(params_[i]) == g) order.push_back(i);
  arena_rank_.assign(params_.size(), 0);
  int64_t end = 0;
  for (size_t r = 0; r < order.size(); ++r) {
    Parameter& p = params_[order[r]];
    arena_rank_[order[r]] = r;
    p.arena_offset = end;
    end += (p.numel() + kArenaAlignment - 1) / kArenaAlignment * kArenaAlignment;
  }
  arena_elements_ = end;
  // Zero-filled: the padding must read as zero (the norms sum over it) and every op keeps it so.
  const size_t count = static_cast<size_t>(arena_elements_);
  value_arena_ = HostBuffer(ctx_.device, count * sizeof(float), MSW_ALLOC_PERSISTENT | MSW_ALLOC_ZERO);
  grad_arena_ = HostBuffer(ctx_.device, count * sizeof(float), MSW_ALLOC_PERSISTENT | MSW_ALLOC_ZERO);
  if (mixed_precision())
    compute_arena_ = HostBuffer(ctx_.device, count * act_size(), MSW_ALLOC_PERSISTENT | MSW_ALLOC_ZERO);
  for (Parameter& p : params_) {
    auto view = [&p, this](Arena a) {
      msw_tensor t = arena_span(a, p.arena_offset, p.arena_offset + p.numel());
      msw_tensor_set_dense_shape(&t, static_cast<int32_t>(p.shape.size()), p.shape.data());
      return t;
    };
    p.value = view(Arena::value);
    p.grad = view(Arena::grad);
    p.compute = view(Arena::compute);
  }
  auto values = [this](const std::vector<int64_t>& idx, std::vector<msw_tensor>& out) {
    out.clear();
    for (int64_t i : idx) out.push_back(params_[static_cast<size_t>(i)].compute);
  };
  values(embedding_params_, embedding_values_);
  values(head_params_, head_values_);
  layer_values_.resize(layer_params_.size());
  for (size_t l = 0; l < layer_params_.size(); ++l) values(layer_params_[l], layer_values_[l]);
  rebuild_grad_views();
}

ModelRunner::ParamGroup ModelRunner::group_of(const Parameter& p) {
  if (!p.requires_grad) return ParamGroup::frozen;
  return p.info.weight_decay ? ParamGroup::decay : ParamGroup::no_decay;
}

msw_tensor ModelRunner::arena_span(Arena arena, int64_t begin, int64_t end) const {
  if (begin < 0 || end < begin || end > arena_elements_)
    throw HostError(MSW_STATUS_INTERNAL, "arena span [" + std::to_string(begin) + ", " + std::to_string(end) +
                                             ") outside the " + std::to_string(arena_elements_) + " elements");
  const bool copy = arena == Arena::compute && mixed_precision();
  const HostBuffer& b = arena == Arena::grad ? grad_arena_ : copy ? compute_arena_ : value_arena_;
  const int32_t dtype = copy ? info_.activation_dtype : MSW_DTYPE_F32;
  const size_t elem = msw_dtype_size(dtype);
  msw_tensor t{};
  t.data = static_cast<char*>(b.data()) + static_cast<size_t>(begin) * elem;
  t.device = ctx_.device;
  t.dtype = dtype;
  const int64_t n = end - begin;
  msw_tensor_set_dense_shape(&t, 1, &n);
  return t;
}

std::optional<ModelRunner::ArenaRange> ModelRunner::arena_range(const std::vector<size_t>& params) const {
  if (params.empty()) return std::nullopt;
  std::set<size_t> ranks;
  for (size_t i : params) {
    if (i >= params_.size())
      throw HostError(MSW_STATUS_INTERNAL, "arena_range: no parameter " + std::to_string(i));
    ranks.insert(arena_rank_[i]);
  }
  // Parameters are laid out back to back in rank order, so consecutive ranks are adjacent ranges.
  if (*ranks.rbegin() - *ranks.begin() + 1 != ranks.size()) return std::nullopt;
  size_t first = 0, last = 0;
  for (size_t i = 0; i < params_.size(); ++i) {
    if (arena_rank_[i] == *ranks.begin()) first = i;
    if (arena_rank_[i] == *ranks.rbegin()) last = i;
  }
  return ArenaRange{params_[first].arena_offset, params_[last].arena_offset + params_[last].numel()};
}

std::vector<size_t> ModelRunner::group_params(ParamGroup group) const {
  std::vector<size_t> out;
  for (size_t i = 0; i < params_.size(); ++i)
    if (group_of(params_[i]) == group) out.push_back(i);
  std::sort(out.begin(), out.end(), [this](size_t a, size_t b) { return arena_rank_[a] < arena_rank_[b]; });
  return out;
}

// The grads arrays of the compute calls: an absent (zeroed) entry for a frozen parameter.
void ModelRunner::rebuild_grad_views() {
  auto grads = [this](const std::vector<int64_t>& idx, std::vector<msw_tensor>& out) {
    out.clear();
    for (int64_t i : idx) {
      const Parameter& p = params_[static_cast<size_t>(i)];
      out.push_back(p.requires_grad ? p.grad : msw_tensor{});
    }
  };
  grads(embedding_params_, embedding_grads_);
  grads(head_params_, head_grads_);
  layer_grads_.resize(layer_params_.size());
  for (size_t l = 0; l < layer_params_.size(); ++l) grads(layer_params_[l], layer_grads_[l]);
}

void ModelRunner::set_requires_grad(const std::string& name, bool requires_grad) {
  param(name).requires_grad = requires_grad;
  rebuild_grad_views();
}

Parameter& ModelRunner::param(const std::string& name) {
  for (auto& p : params_)
    if (p.name == name) return p;
  throw HostError(MSW_STATUS_NOT_FOUND, "model " + plugin_name() + " has no parameter named " + name);
}

int64_t ModelRunner::num_parameters() const {
  int64_t n = 0;
  for (const auto& p : params_) n += p.numel();
  return n;
}

// ------------------------------------------------------------------------------------------------ weights

void ModelRunner::init_from_scratch(uint64_t seed) {
  compute_stale_ = true;
  std::vector<float> staging;
  for (auto& p : params_) {
    if (on_cpu()) {
      init_parameter(p.name, p.info.init, p.info.init_std, seed, 0, p.numel(), p.values());
      continue;
    }
    staging.resize(static_cast<size_t>(p.numel()));
    init_parameter(p.name, p.info.init, p.info.init_std, seed, 0, p.numel(), staging.data());
    write_value(p, staging.data());
  }
}

std::vector<float> ModelRunner::read_value(const Parameter& p, bool gradient) const {
  std::vector<float> out(static_cast<size_t>(p.numel()));
  const msw_tensor& t = gradient ? p.grad : p.value;
  copy_to_host(ctx_.device, out.data(), t.data, out.size() * sizeof(float), ctx_.stream, p.name.c_str());
  return out;
}

void ModelRunner::write_value(Parameter& p, const float* values) {
  compute_stale_ = true;
  copy_to_device(ctx_.device, p.value.data, values, static_cast<size_t>(p.numel()) * sizeof(float), ctx_.stream,
                 p.name.c_str());
}

namespace {

// The HF tensor records of a mapping, walked with the plugin's element size.
std::vector<msw_hf_tensor> hf_records(const msw_hf_mapping& m) {
  if (m.hf_count && (!m.hf || m.hf_elem_size < offsetof(msw_hf_tensor, shape)))
    throw HostError(MSW_STATUS_INTERNAL, std::string("the HF mapping of ") + (m.megatron_name ? m.megatron_name : "?") +
                                             " has no valid HF tensor array (hf, hf_count, hf_elem_size)");
  std::vector<msw_hf_tensor> out;
  for (size_t i = 0; i < m.hf_count; ++i) {
    msw_hf_tensor t{};
    const auto* src = reinterpret_cast<const char*>(m.hf) + i * m.hf_elem_size;
    std::memcpy(&t, src, std::min(m.hf_elem_size, sizeof(t)));
    out.push_back(t);
  }
  return out;
}

msw_hf_mapping mapping_at(const ModelInstance& instance, int64_t index) {
  msw_hf_mapping rec{};
  rec.struct_size = sizeof(rec);
  throw_if_error(instance.vt().hf_mapping(instance.self(), index, &rec), "model " + instance.name() + ": hf_mapping");
  return rec;
}

int64_t mapping_count(const ModelInstance& instance) {
  const int64_t n = instance.vt().hf_mapping_count(instance.self());
  if (n < 0)
    throw HostError(MSW_STATUS_INTERNAL, "model " + instance.name() + ": hf_mapping_count failed (the plugin logged why)");
  return n;
}

std::vector<int64_t> shape_of(const msw_hf_tensor& t) { return std::vector<int64_t>(t.shape, t.shape + t.ndim); }
int64_t numel_of(const msw_hf_tensor& t) {
  int64_t n = 1;
  for (int32_t d = 0; d < t.ndim; ++d) n *= t.shape[d];
  return n;
}

}  // namespace

void ModelRunner::load_hf(const SafetensorsCheckpoint& checkpoint) {
  compute_stale_ = true;
  const auto& vt = instance_->vt();
  std::set<std::string> loaded, used;
  static const std::vector<int32_t> kFloat = {MSW_DTYPE_F32, MSW_DTYPE_BF16, MSW_DTYPE_F16};
  for (int64_t m = 0, n = mapping_count(*instance_); m < n; ++m) {
    const msw_hf_mapping rec = mapping_at(*instance_, m);
    Parameter& p = param(rec.megatron_name);
    const std::vector<msw_hf_tensor> records = hf_records(rec);
    std::vector<msw_tensor> hf(records.size());
    std::vector<std::vector<float>> widened;
    widened.reserve(records.size());
    for (size_t i = 0; i < records.size(); ++i) {
      const std::vector<int64_t> shape = shape_of(records[i]);
      const TensorRef ref = checkpoint.require(records[i].name, kFloat, shape);
      used.insert(records[i].name);
      hf[i] = ref.file->descriptor(*ref.entry);
      if (hf[i].dtype != MSW_DTYPE_F32) {
        widened.emplace_back(static_cast<size_t>(numel_of(records[i])));
        const msw_tensor dst = cpu_tensor(widened.back().data(), MSW_DTYPE_F32, shape);
        msw_copy_args a{};
        a.struct_size = sizeof(a);
        a.src = hf[i];
        a.dst = dst;
        throw_if_error(ops_api().copy(&host_ctx_, &a), std::string("widening ") + records[i].name + " to fp32");
        hf[i] = dst;
      }
    }
    // The plugin converts on host memory (model.h); a GPU runner uploads the result.
    std::vector<float> staging(on_cpu() ? 0 : static_cast<size_t>(p.numel()));
    const msw_tensor target = on_cpu() ? p.value : cpu_tensor(staging.data(), MSW_DTYPE_F32, p.shape);
    throw_if_error(vt.hf_to_megatron(instance_->self(), m, hf.data(), hf.size(), &target),
                   "model " + plugin_name() + ": converting " + rec.megatron_name + " from HF");
    if (!on_cpu()) write_value(p, staging.data());
    loaded.insert(p.name);
  }
  for (const auto& p : params_)
    if (!loaded.count(p.name))
      throw HostError(MSW_STATUS_INTERNAL, "model " + plugin_name() + ": parameter " + p.name +
                                               " has no HF mapping, so an HF checkpoint cannot fill it");
  std::vector<std::string> unused;
  for (const auto& name : checkpoint.names())
    if (!used.count(name)) unused.push_back(name);
  if (!unused.empty()) {
    std::string list;
    for (size_t i = 0; i < unused.size() && i < 8; ++i) list += (i ? ", " : "") + unused[i];
    spdlog::warn("{}: {} tensor(s) not used by the {} model plugin: {}{}", checkpoint.directory().string(),
                 unused.size(), plugin_name(), list, unused.size() > 8 ? ", ..." : "");
  }
}

std::vector<std::pair<std::string, std::vector<int64_t>>> ModelRunner::hf_shapes() const {
  std::vector<std::pair<std::string, std::vector<int64_t>>> out;
  for (int64_t m = 0, n = mapping_count(*instance_); m < n; ++m)
    for (const msw_hf_tensor& t : hf_records(mapping_at(*instance_, m))) out.emplace_back(t.name, shape_of(t));
  return out;
}

std::vector<std::pair<std::string, std::vector<float>>> ModelRunner::export_hf(bool gradients) const {
  const auto& vt = instance_->vt();
  std::vector<std::pair<std::string, std::vector<float>>> out;
  for (int64_t m = 0, n = mapping_count(*instance_); m < n; ++m) {
    const msw_hf_mapping rec = mapping_at(*instance_, m);
    const Parameter* p = nullptr;
    for (const auto& q : params_)
      if (q.name == rec.megatron_name) p = &q;
    if (!p) throw HostError(MSW_STATUS_INTERNAL, std::string("HF mapping names unknown parameter ") + rec.megatron_name);
    const std::vector<msw_hf_tensor> records = hf_records(rec);
    const size_t first = out.size();
    for (const msw_hf_tensor& t : records) out.emplace_back(t.name, std::vector<float>(static_cast<size_t>(numel_of(t))));
    std::vector<msw_tensor> hf;
    for (size_t i = 0; i < records.size(); ++i)
      hf.push_back(cpu_tensor(out[first + i].second.data(), MSW_DTYPE_F32, shape_of(records[i])));
    std::vector<float> staging = on_cpu() ? std::vector<float>() : read_value(*p, gradients);
    const msw_tensor source = on_cpu() ? (gradients ? p->grad : p->value) : cpu_tensor(staging.data(), MSW_DTYPE_F32, p->shape);
    throw_if_error(vt.megatron_to_hf(instance_->self(), m, &source, hf.data(), hf.size()),
                   "model " + plugin_name() + ": converting " + rec.megatron_name + " to HF");
  }
  return out;
}

// ------------------------------------------------------------------------------------------------ compute

void ModelRunner::refresh_compute_weights() const {
  if (!compute_stale_) return;
  if (mixed_precision() && arena_elements_ > 0) {
    // The whole arena in one cast: the padding casts 0 to 0.
    msw_copy_args a{};
    a.struct_size = sizeof(a);
    a.src = arena_span(Arena::value, 0, arena_elements_);
    a.dst = arena_span(Arena::compute, 0, arena_elements_);
    throw_if_error(ops_api().copy(&ctx_, &a), "casting the main weights to the compute dtype");
  }
  compute_stale_ = false;
}

const std::vector<msw_tensor>& ModelRunner::part_values(int32_t part, int64_t layer) const {
  refresh_compute_weights();  // callers that drive the plugin themselves (decoding) read the compute weights
  if (part == MSW_MODEL_PART_EMBEDDING) return embedding_values_;
  if (part == MSW_MODEL_PART_HEAD) return head_values_;
  if (part == MSW_MODEL_PART_LAYER && layer >= 0 && layer < info_.num_layers) return layer_values_[static_cast<size_t>(layer)];
  throw HostError(MSW_STATUS_INVALID_ARGUMENT, "part_values: no part " + std::to_string(part) + " (layer " +
                                                   std::to_string(layer) + ") in a model of " +
                                                   std::to_string(info_.num_layers) + " layers");
}

void ModelRunner::zero_grads() {
  if (!grad_arena_.size()) return;
  if (on_cpu()) {
    std::memset(grad_arena_.data(), 0, grad_arena_.size());
    return;
  }
  msw_fill_args f{};
  f.struct_size = sizeof(f);
  f.out = arena_span(Arena::grad, 0, arena_elements_);
  throw_if_error(ops_api().fill(&ctx_, &f), "zeroing the gradients");
}

ModelRunner::Memory ModelRunner::memory(int64_t batch_size, int64_t seq_len, bool packed, int64_t max_seqlen,
                                        bool recompute_full) const {
  msw_model_shape shape{};
  shape.struct_size = sizeof(shape);
  shape.packed = packed ? 1 : 0;
  shape.batch_size = batch_size;
  shape.seq_len = seq_len;
  shape.max_seqlen = max_seqlen;
  Memory r;
  r.layer_saved.assign(static_cast<size_t>(info_.num_layers), 0);
  r.kv_bytes_per_token.assign(static_cast<size_t>(info_.num_layers), 0);
  msw_model_memory m{};
  m.struct_size = sizeof(m);
  m.layer_saved = r.layer_saved.data();
  m.kv_bytes_per_token = r.kv_bytes_per_token.data();
  m.layer_count = r.layer_saved.size();
  msw_model_memory_args a{};
  a.struct_size = sizeof(a);
  a.shape = &shape;
  a.recompute_full = recompute_full ? 1 : 0;
  throw_if_error(instance_->vt().memory(instance_->self(), &a, &m), "model " + plugin_name() + ": memory");
  r.embedding_saved = m.embedding_saved;
  r.head_saved = m.head_saved;
  r.workspace = m.workspace;
  return r;
}

void ModelRunner::plan_recompute() {
  const int64_t layers = info_.num_layers;
  recompute_begin_.assign(static_cast<size_t>(layers), -1);
  recompute_end_.assign(static_cast<size_t>(layers), -1);
  if (!recompute_full()) return;
  const std::string& method = layout_.recompute_method;
  const int64_t n = layout_.recompute_num_layers;
  if ((method != "uniform" && method != "block") || n < 1)
    throw HostError(MSW_STATUS_INVALID_ARGUMENT,
                    "full recompute needs --recompute_method uniform|block and --recompute_num_layers >= 1, got " +
                        method + " and " + std::to_string(n));
  for (int64_t l = 0; l < layers; ++l) {
    const size_t li = static_cast<size_t>(l);
    if (method == "uniform") {
      recompute_begin_[li] = l / n * n;
      recompute_end_[li] = std::min(layers, recompute_begin_[li] + n);
    } else if (l < n) {  // block: the first n layers, each on its own
      recompute_begin_[li] = l;
      recompute_end_[li] = l + 1;
    }
  }
}

msw_tensor ModelRunner::hidden(int64_t index, const std::vector<int64_t>& shape) const {
  return hidden_[hidden_slot_[static_cast<size_t>(index)]].tensor(info_.activation_dtype, shape);
}

void ModelRunner::prepare_activations(const Batch& batch) {
  const Shape shape{batch.batch_size, batch.seq_len, batch.packed ? batch.max_seqlen : 0, batch.packed};
  if (shape == shape_ && !hidden_.empty()) return;
  const int64_t layers = info_.num_layers;
  plan_recompute();
  // Saved sizes as if every layer kept its tensors: a recomputed layer's first forward writes them into the
  // recompute buffers (free until backward), so the workspace is the plain one.
  mem_ = memory(shape.b, shape.s, shape.packed, shape.max_seqlen, false);
  const msw_device cpu = ctx_.device;  // where the activations live
  const size_t hidden_bytes = static_cast<size_t>(shape.b * shape.s * info_.hidden_size) * act_size();
  // Hidden states: the input of a kept layer, of a recompute group's first layer and of the head stay for
  // backward; the inputs inside a group share one buffer per position in the group (backward recomputes them).
  hidden_.clear();
  hidden_slot_.assign(static_cast<size_t>(layers + 1), 0);
  std::vector<size_t> inner;  // inner[j]: the buffer of the (j + 1)-th input inside a group
  for (int64_t l = 0; l <= layers; ++l) {
    const size_t li = static_cast<size_t>(l);
    const bool inside = l < layers && recomputed(l) && recompute_begin_[li] != l;
    if (!inside) {
      hidden_slot_[li] = hidden_.size();
      hidden_.emplace_back(cpu, hidden_bytes);
      continue;
    }
    const size_t j = static_cast<size_t>(l - recompute_begin_[li] - 1);
    while (inner.size() <= j) {
      inner.push_back(hidden_.size());
      hidden_.emplace_back(cpu, hidden_bytes);
    }
    hidden_slot_[li] = inner[j];
  }
  layer_saved_.clear();
  uint64_t largest_recomputed = 0;
  int64_t group = 0;
  for (int64_t l = 0; l < layers; ++l) {
    const size_t li = static_cast<size_t>(l);
    const bool keeps = !recomputed(l);
    layer_saved_.emplace_back(cpu, keeps ? mem_.layer_saved[li] : 0);
    if (!keeps) {
      largest_recomputed = std::max(largest_recomputed, mem_.layer_saved[li]);
      group = std::max(group, recompute_end_[li] - recompute_begin_[li]);
    }
  }
  // Backward recomputes one group at a time, keeping every layer of it.
  recompute_saved_.clear();
  for (int64_t j = 0; j < group; ++j) recompute_saved_.emplace_back(cpu, largest_recomputed);
  embedding_saved_ = HostBuffer(cpu, mem_.embedding_saved);
  head_saved_ = HostBuffer(cpu, mem_.head_saved);
  workspace_ = HostBuffer(cpu, mem_.workspace);
  grad_ = HostBuffer(cpu, hidden_bytes);
  shape_ = shape;
}

uint64_t ModelRunner::activation_bytes() const {
  uint64_t n = embedding_saved_.size() + head_saved_.size() + workspace_.size() + grad_.size();
  for (const auto* v : {&hidden_, &layer_saved_, &recompute_saved_})
    for (const HostBuffer& b : *v) n += b.size();
  return n;
}

// A GPU runner's copy of the batch's token tensors (the plugin's kernels read them on the device).
void ModelRunner::upload_batch(const Batch& batch) {
  if (on_cpu()) return;
  auto up = [this](HostBuffer& buf, const void* src, size_t bytes, const char* what) {
    if (!bytes) return;
    if (buf.size() < bytes) buf = HostBuffer(ctx_.device, bytes);
    copy_to_device(ctx_.device, buf.data(), src, bytes, ctx_.stream, what);
  };
  up(batch_ids_, batch.input_ids.data(), batch.input_ids.size() * sizeof(int64_t), "batch input ids");
  up(batch_positions_, batch.position_ids.data(), batch.position_ids.size() * sizeof(int64_t), "batch position ids");
  up(batch_labels_, batch.labels.data(), batch.labels.size() * sizeof(int64_t), "batch labels");
  up(batch_cu_seqlens_, batch.cu_seqlens.data(), batch.cu_seqlens.size() * sizeof(int32_t), "batch cu_seqlens");
}

msw_model_batch ModelRunner::make_batch(const Batch& batch) const {
  const int64_t b = batch.batch_size, s = batch.seq_len;
  msw_model_batch mb{};
  mb.struct_size = sizeof(mb);
  mb.packed = batch.packed ? 1 : 0;
  mb.batch_size = b;
  mb.seq_len = s;
  // The host vectors themselves on a CPU runner; their uploaded copies (upload_batch) on a GPU one.
  auto tokens = [&](const void* host, const HostBuffer& device, int32_t dtype, const std::vector<int64_t>& shape) {
    return on_cpu() ? cpu_tensor(const_cast<void*>(host), dtype, shape) : device.tensor(dtype, shape);
  };
  mb.input_ids = tokens(batch.input_ids.data(), batch_ids_, MSW_DTYPE_I64, {b, s});
  if (!batch.position_ids.empty()) mb.position_ids = tokens(batch.position_ids.data(), batch_positions_, MSW_DTYPE_I64, {b, s});
  if (!batch.labels.empty()) mb.labels = tokens(batch.labels.data(), batch_labels_, MSW_DTYPE_I64, {b, s});
  if (batch.packed) {
    mb.cu_seqlens = tokens(batch.cu_seqlens.data(), batch_cu_seqlens_, MSW_DTYPE_I32,
                           {static_cast<int64_t>(batch.cu_seqlens.size())});
    mb.num_sequences = static_cast<int64_t>(batch.cu_seqlens.size()) - 1;
    mb.max_seqlen = batch.max_seqlen;
  }
  return mb;
}

msw_model_call ModelRunner::make_call() const {
  msw_model_call c{};
  c.struct_size = sizeof(c);
  c.workspace = workspace_.bytes();
  c.training = 1;
  return c;
}

namespace {

void check_batch(const Batch& batch) {
  const int64_t b = batch.batch_size, s = batch.seq_len;
  if (b <= 0 || s <= 0) throw HostError(MSW_STATUS_INVALID_ARGUMENT, "batch_size and seq_len must be positive");
  const size_t n = static_cast<size_t>(b * s);
  auto require = [n](const std::vector<int64_t>& v, const char* what, bool optional) {
    if ((optional && v.empty()) || v.size() == n) return;
    throw HostError(MSW_STATUS_INVALID_ARGUMENT, "batch has " + std::to_string(v.size()) + " " + what +
                                                     ", expected batch_size * seq_len = " + std::to_string(n));
  };
  require(batch.input_ids, "input ids", false);
  require(batch.labels, "labels", true);
  require(batch.position_ids, "position ids", true);
  if (!batch.packed) return;
  const auto& cu = batch.cu_seqlens;
  if (b != 1) throw HostError(MSW_STATUS_INVALID_ARGUMENT, "a packed batch has batch_size 1 (use Batch::pack)");
  if (cu.size() < 2 || cu.front() != 0 || cu.back() != s)
    throw HostError(MSW_STATUS_INVALID_ARGUMENT, "a packed batch needs cu_seqlens from 0 to seq_len " + std::to_string(s) +
                                                     " (use Batch::pack)");
  int64_t longest = 0;
  for (size_t i = 1; i < cu.size(); ++i) {
    if (cu[i] < cu[i - 1]) throw HostError(MSW_STATUS_INVALID_ARGUMENT, "cu_seqlens decreases at entry " + std::to_string(i));
    longest = std::max<int64_t>(longest, cu[i] - cu[i - 1]);
  }
  if (batch.max_seqlen != longest)
    throw HostError(MSW_STATUS_INVALID_ARGUMENT, "a packed batch's max_seqlen is " + std::to_string(batch.max_seqlen) +
                                                     " but its longest sequence has " + std::to_string(longest) + " tokens");
}

}  // namespace

ForwardResult ModelRunner::forward(const Batch& batch, bool want_logits) {
  check_batch(batch);
  if (batch.packed && !layout_.packed) {  // the layout did not announce packed batches: check the capability now
    ParallelLayout l = layout_;
    l.packed = true;
    check_layout(plugin_name(), caps_, info_.activation_dtype, l);
  }
  const int64_t b = batch.batch_size, s = batch.seq_len, h = info_.hidden_size, layers = info_.num_layers;
  prepare_activations(batch);
  refresh_compute_weights();
  last_batch_ = batch;
  upload_batch(last_batch_);
  have_forward_ = false;
  ++step_;
  const msw_model_batch mb = make_batch(last_batch_);
  const auto& vt = instance_->vt();
  void* self = instance_->self();
  const std::vector<int64_t> hshape = {s, b, h};
  const std::string who = "model " + plugin_name();
  const uint64_t rng_base = step_ * static_cast<uint64_t>(layers + 2);

  msw_model_call call = make_call();
  call.batch = &mb;
  call.params = embedding_values_.data();
  call.param_count = embedding_values_.size();
  call.saved = embedding_saved_.bytes();
  call.output = hidden(0, hshape);
  call.rng_offset = rng_base;
  throw_if_error(vt.embedding_forward(self, &ctx_, &call), who + ": embedding forward");

  for (int64_t l = 0; l < layers; ++l) {
    msw_model_call c = make_call();
    c.batch = &mb;
    c.layer = l;
    c.params = layer_values_[static_cast<size_t>(l)].data();
    c.param_count = layer_values_[static_cast<size_t>(l)].size();
    const size_t li = static_cast<size_t>(l);
    c.saved = recomputed(l) ? recompute_saved_[static_cast<size_t>(l - recompute_begin_[li])].bytes()
                            : layer_saved_[li].bytes();
    c.input = hidden(l, hshape);
    c.output = hidden(l + 1, hshape);
    c.rng_offset = rng_base + 1 + static_cast<uint64_t>(l);
    throw_if_error(vt.layer_forward(self, &ctx_, &c), who + ": layer " + std::to_string(l) + " forward");
  }

  ForwardResult r;
  r.batch_size = b;
  r.seq_len = s;
  r.vocab = info_.padded_vocab_size;
  msw_model_call c = make_call();
  c.batch = &mb;
  c.params = head_values_.data();
  c.param_count = head_values_.size();
  c.saved = head_saved_.bytes();
  c.input = hidden(layers, hshape);
  c.rng_offset = rng_base + 1 + static_cast<uint64_t>(layers);
  const size_t logit_count = static_cast<size_t>(b * s * info_.padded_vocab_size);
  if (want_logits) {
    r.logits.resize(logit_count);
    if (on_cpu()) {
      c.logits = cpu_tensor(r.logits.data(), MSW_DTYPE_F32, {s, b, info_.padded_vocab_size});
    } else {
      if (logits_.size() < logit_count * sizeof(float)) logits_ = HostBuffer(ctx_.device, logit_count * sizeof(float));
      c.logits = logits_.tensor(MSW_DTYPE_F32, {s, b, info_.padded_vocab_size});
    }
  }
  c.loss_sum = loss_sum_.tensor(MSW_DTYPE_F64, {});
  c.token_count = token_count_.tensor(MSW_DTYPE_I64, {});
  const double zero_sum = 0.0;
  const int64_t zero_count = 0;
  copy_to_device(ctx_.device, loss_sum_.data(), &zero_sum, sizeof zero_sum, ctx_.stream, "zeroing the loss sum");
  copy_to_device(ctx_.device, token_count_.data(), &zero_count, sizeof zero_count, ctx_.stream, "zeroing the token count");
  throw_if_error(vt.head_forward(self, &ctx_, &c), who + ": head forward");
  // The one host read of a step: the loss scalars (copy_to_host waits for the stream to pass the head).
  copy_to_host(ctx_.device, &r.loss_sum, loss_sum_.data(), sizeof(double), ctx_.stream, "the loss sum");
  copy_to_host(ctx_.device, &r.token_count, token_count_.data(), sizeof(int64_t), ctx_.stream, "the token count");
  if (want_logits && !on_cpu())
    copy_to_host(ctx_.device, r.logits.data(), logits_.data(), logit_count * sizeof(float), ctx_.stream, "the logits");
  have_forward_ = true;
  return r;
}

void ModelRunner::backward(double loss_scale) {
  if (!have_forward_) throw HostError(MSW_STATUS_INVALID_ARGUMENT, "backward called without a preceding forward");
  if (last_batch_.labels.empty()) throw HostError(MSW_STATUS_INVALID_ARGUMENT, "backward needs a batch with labels");
  have_forward_ = false;  // one backward per forward (the saved buffers are consumed)
  const msw_model_batch mb = make_batch(last_batch_);
  const auto& vt = instance_->vt();
  void* self = instance_->self();
  const int64_t layers = info_.num_layers;
  const std::vector<int64_t> hshape = {shape_.s, shape_.b, info_.hidden_size};
  const std::string who = "model " + plugin_name();
  const uint64_t rng_base = step_ * static_cast<uint64_t>(layers + 2);
  // One buffer carries the hidden-state gradient through every layer: model.h lets d_input alias d_output, and a
  // layer that sees them alias may fold its residual adds into its norms' backward (nn/transformer_layer.hpp).
  const msw_tensor dh = grad_.tensor(info_.activation_dtype, hshape);

  msw_model_call c = make_call();
  c.batch = &mb;
  c.params = head_values_.data();
  c.param_count = head_values_.size();
  c.grads = head_grads_.data();
  c.grad_count = head_grads_.size();
  c.saved = head_saved_.bytes();
  c.input = hidden(layers, hshape);
  c.d_input = dh;
  c.loss_scale = loss_scale;
  throw_if_error(vt.head_backward(self, &ctx_, &c), who + ": head backward");

  for (int64_t l = layers - 1; l >= 0; --l) {
    const size_t li = static_cast<size_t>(l);
    if (recomputed(l) && l == recompute_end_[li] - 1) {
      // The group's forward again (same rng offsets), keeping each layer's saved tensors this time. The last
      // layer's output lands on an input that nothing reads any more (with the same values).
      for (int64_t r = recompute_begin_[li]; r <= l; ++r) {
        msw_model_call rc = make_call();
        rc.batch = &mb;
        rc.layer = r;
        rc.params = layer_values_[static_cast<size_t>(r)].data();
        rc.param_count = layer_values_[static_cast<size_t>(r)].size();
        rc.input = hidden(r, hshape);
        rc.output = hidden(r + 1, hshape);
        rc.saved = recompute_saved_[static_cast<size_t>(r - recompute_begin_[li])].bytes();
        rc.rng_offset = rng_base + 1 + static_cast<uint64_t>(r);
        rc.recompute = 1;
        throw_if_error(vt.layer_forward(self, &ctx_, &rc), who + ": layer " + std::to_string(r) + " recompute");
      }
    }
    msw_model_call lc = make_call();
    lc.batch = &mb;
    lc.layer = l;
    lc.params = layer_values_[li].data();
    lc.param_count = layer_values_[li].size();
    lc.input = hidden(l, hshape);
    lc.rng_offset = rng_base + 1 + static_cast<uint64_t>(l);
    lc.saved = recomputed(l) ? recompute_saved_[static_cast<size_t>(l - recompute_begin_[li])].bytes()
                             : layer_saved_[li].bytes();
    lc.grads = layer_grads_[li].data();
    lc.grad_count = layer_grads_[li].size();
    lc.d_output = dh;
    lc.d_input = dh;
    throw_if_error(vt.layer_backward(self, &ctx_, &lc), who + ": layer " + std::to_string(l) + " backward");
  }
  msw_model_call ec = make_call();
  ec.batch = &mb;
  ec.params = embedding_values_.data();
  ec.param_count = embedding_values_.size();
  ec.grads = embedding_grads_.data();
  ec.grad_count = embedding_grads_.size();
  ec.saved = embedding_saved_.bytes();
  ec.d_output = dh;
  throw_if_error(vt.embedding_backward(self, &ctx_, &ec), who + ": embedding backward");
}

ForwardResult ModelRunner::forward_backward(const Batch& batch, bool want_logits) {
  ForwardResult r = forward(batch, want_logits);
  backward(r.token_count ? 1.0 / static_cast<double>(r.token_count) : 0.0);
  return r;
}

}  // namespace megaswift::host
