#include "host/model/model_runner.hpp"

#include "host/core/host_api.hpp"
#include "host/core/status.hpp"
#include "host/model/init.hpp"
#include "host/ops/ops_api.hpp"

#include "kernels/cpu/threading.hpp"

#include <nlohmann/json.hpp>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <array>
#include <cstring>
#include <fstream>
#include <set>
#include <sstream>

namespace megaswift::host {

// ------------------------------------------------------------------------------------------------ HostBuffer

HostBuffer::HostBuffer(msw_device device, size_t bytes) : device_(device), bytes_(bytes) {
  if (bytes == 0) return;
  throw_if_error(host_api().alloc(device, bytes, 0, &data_), "allocating " + std::to_string(bytes) + " bytes");
}
HostBuffer::~HostBuffer() {
  if (data_) host_api().free(device_, data_);
}
HostBuffer::HostBuffer(HostBuffer&& o) noexcept
    : device_(o.device_), data_(std::exchange(o.data_, nullptr)), bytes_(std::exchange(o.bytes_, 0)) {}
HostBuffer& HostBuffer::operator=(HostBuffer&& o) noexcept {
  if (this != &o) {
    if (data_) host_api().free(device_, data_);
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

int64_t Parameter::numel() const {
  int64_t n = 1;
  for (int64_t d : shape) n *= d;
  return n;
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

msw_tensor bytes_tensor(const HostBuffer& b) {
  return cpu_tensor(b.data(), MSW_DTYPE_U8, {static_cast<int64_t>(b.size())});
}

std::string read_text(const std::filesystem::path& path, const std::string& what) {
  std::ifstream in(path);
  if (!in) throw HostError(MSW_STATUS_NOT_FOUND, what + " " + path.string() + " does not exist or cannot be read");
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

std::string apply_overrides(const std::string& config, const std::string& overrides) {
  nlohmann::json c = nlohmann::json::parse(config);
  nlohmann::json o;
  try {
    o = nlohmann::json::parse(overrides.empty() ? "{}" : overrides);
  } catch (const nlohmann::json::exception& e) {
    throw HostError(MSW_STATUS_INVALID_ARGUMENT, std::string("config overrides are not valid JSON: ") + e.what());
  }
  if (!o.is_object()) throw HostError(MSW_STATUS_INVALID_ARGUMENT, "config overrides must be a JSON object");
  c.update(o);
  return c.dump();
}

void ensure_ops_installed() {
  if (!host_api().ops) install_ops(&ops_api());
}

}  // namespace

// ------------------------------------------------------------------------------------------------ construction

ModelRunner::ModelRunner(ModelComponent model, std::string transformer_config, const RunnerOptions& options) {
  ensure_ops_installed();
  transformer_config = apply_overrides(transformer_config, options.config_overrides_json);
  instance_ = std::make_unique<ModelInstance>(model, transformer_config);
  transformer_config_ = instance_->vt().config_json(instance_->self());
  info_.struct_size = sizeof(info_);
  throw_if_error(instance_->vt().describe(instance_->self(), &info_), "model " + instance_->name() + ": describe");
  ctx_.struct_size = sizeof(msw_exec_ctx);
  ctx_.num_threads = options.num_threads > 0 ? options.num_threads : kernels::cpu::available_cores();
  ctx_.device = {MSW_DEVICE_CPU, 0};
  ctx_.seed = options.seed;
  build_parameters();
}

ModelRunner::ModelRunner(ModelRunner&&) noexcept = default;
ModelRunner::~ModelRunner() = default;

ModelRunner ModelRunner::from_hf_directory(const PluginRegistry& registry, const std::filesystem::path& dir,
                                           const RunnerOptions& options) {
  const auto config_path = dir / "config.json";
  if (!std::filesystem::is_directory(dir))
    throw HostError(MSW_STATUS_NOT_FOUND, "model directory " + dir.string() + " does not exist");
  const std::string hf = read_text(config_path, "model config");
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

const std::string& ModelRunner::plugin_name() const { return instance_->name(); }

void ModelRunner::build_parameters() {
  const auto& vt = instance_->vt();
  const int64_t n = vt.param_count(instance_->self());
  params_.resize(static_cast<size_t>(n));
  layer_params_.assign(static_cast<size_t>(info_.num_layers), {});
  for (int64_t i = 0; i < n; ++i) {
    Parameter& p = params_[static_cast<size_t>(i)];
    throw_if_error(vt.param_info(instance_->self(), i, &p.info), "model " + instance_->name() + ": param_info");
    p.name = p.info.name;
    p.shape.assign(p.info.shape, p.info.shape + p.info.ndim);
    const size_t bytes = static_cast<size_t>(p.numel()) * sizeof(float);
    p.value_buffer = HostBuffer({MSW_DEVICE_CPU, 0}, bytes);
    p.grad_buffer = HostBuffer({MSW_DEVICE_CPU, 0}, bytes);
    p.value = cpu_tensor(p.value_buffer.data(), MSW_DTYPE_F32, p.shape);
    p.grad = cpu_tensor(p.grad_buffer.data(), MSW_DTYPE_F32, p.shape);
    if (bytes) std::memset(p.grad_buffer.data(), 0, bytes);
    if (p.info.parts & (1u << MSW_MODEL_PART_EMBEDDING)) embedding_params_.push_back(i);
    if (p.info.parts & (1u << MSW_MODEL_PART_HEAD)) head_params_.push_back(i);
    if (p.info.parts & (1u << MSW_MODEL_PART_LAYER)) {
      if (p.info.layer < 0 || p.info.layer >= info_.num_layers)
        throw HostError(MSW_STATUS_INTERNAL, "model " + instance_->name() + ": layer parameter " + p.name +
                                                 " has layer index " + std::to_string(p.info.layer));
      layer_params_[static_cast<size_t>(p.info.layer)].push_back(i);
    }
  }
  auto views = [this](const std::vector<int64_t>& idx, std::vector<msw_tensor>& values, std::vector<msw_tensor>& grads) {
    values.clear();
    grads.clear();
    for (int64_t i : idx) {
      values.push_back(params_[static_cast<size_t>(i)].value);
      grads.push_back(params_[static_cast<size_t>(i)].grad);
    }
  };
  views(embedding_params_, embedding_values_, embedding_grads_);
  views(head_params_, head_values_, head_grads_);
  layer_values_.resize(layer_params_.size());
  layer_grads_.resize(layer_params_.size());
  for (size_t l = 0; l < layer_params_.size(); ++l) views(layer_params_[l], layer_values_[l], layer_grads_[l]);
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
  for (auto& p : params_) init_parameter(p.name, p.info.init, p.info.init_std, seed, 0, p.numel(), p.values());
}

void ModelRunner::load_hf(const SafetensorsCheckpoint& checkpoint) {
  const auto& vt = instance_->vt();
  const int64_t n = vt.hf_mapping_count(instance_->self());
  std::set<std::string> loaded, used;
  static constexpr std::array<int32_t, 3> kFloat = {MSW_DTYPE_F32, MSW_DTYPE_BF16, MSW_DTYPE_F16};
  for (int64_t m = 0; m < n; ++m) {
    msw_hf_mapping rec{};
    throw_if_error(vt.hf_mapping(instance_->self(), m, &rec), "model " + plugin_name() + ": hf_mapping");
    Parameter& p = param(rec.megatron_name);
    std::array<msw_tensor, MSW_MODEL_MAX_HF_TENSORS> hf{};
    std::vector<std::vector<float>> widened;
    widened.reserve(MSW_MODEL_MAX_HF_TENSORS);
    for (int32_t i = 0; i < rec.num_hf; ++i) {
      const std::vector<int64_t> shape(rec.hf_shape[i], rec.hf_shape[i] + rec.hf_ndim[i]);
      const TensorRef ref = checkpoint.require(rec.hf_names[i], kFloat, shape);
      used.insert(rec.hf_names[i]);
      hf[i] = ref.file->descriptor(*ref.entry);
      if (hf[i].dtype != MSW_DTYPE_F32) {
        int64_t count = 1;
        for (int64_t d : shape) count *= d;
        widened.emplace_back(static_cast<size_t>(count));
        const msw_tensor dst = cpu_tensor(widened.back().data(), MSW_DTYPE_F32, shape);
        throw_if_error(ops_api().copy(&ctx_, &hf[i], &dst), std::string("widening ") + rec.hf_names[i] + " to fp32");
        hf[i] = dst;
      }
    }
    throw_if_error(vt.hf_to_megatron(instance_->self(), m, hf.data(), &p.value),
                   "model " + plugin_name() + ": converting " + rec.megatron_name + " from HF");
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
  const auto& vt = instance_->vt();
  std::vector<std::pair<std::string, std::vector<int64_t>>> out;
  for (int64_t m = 0, n = vt.hf_mapping_count(instance_->self()); m < n; ++m) {
    msw_hf_mapping rec{};
    throw_if_error(vt.hf_mapping(instance_->self(), m, &rec), "model " + plugin_name() + ": hf_mapping");
    for (int32_t i = 0; i < rec.num_hf; ++i)
      out.emplace_back(rec.hf_names[i], std::vector<int64_t>(rec.hf_shape[i], rec.hf_shape[i] + rec.hf_ndim[i]));
  }
  return out;
}

std::vector<std::pair<std::string, std::vector<float>>> ModelRunner::export_hf(bool gradients) const {
  const auto& vt = instance_->vt();
  std::vector<std::pair<std::string, std::vector<float>>> out;
  for (int64_t m = 0, n = vt.hf_mapping_count(instance_->self()); m < n; ++m) {
    msw_hf_mapping rec{};
    throw_if_error(vt.hf_mapping(instance_->self(), m, &rec), "model " + plugin_name() + ": hf_mapping");
    const Parameter* p = nullptr;
    for (const auto& q : params_)
      if (q.name == rec.megatron_name) p = &q;
    if (!p) throw HostError(MSW_STATUS_INTERNAL, std::string("HF mapping names unknown parameter ") + rec.megatron_name);
    const size_t first = out.size();
    std::array<msw_tensor, MSW_MODEL_MAX_HF_TENSORS> hf{};
    for (int32_t i = 0; i < rec.num_hf; ++i) {
      const std::vector<int64_t> shape(rec.hf_shape[i], rec.hf_shape[i] + rec.hf_ndim[i]);
      int64_t count = 1;
      for (int64_t d : shape) count *= d;
      out.emplace_back(rec.hf_names[i], std::vector<float>(static_cast<size_t>(count)));
    }
    for (int32_t i = 0; i < rec.num_hf; ++i) {
      auto& [name, values] = out[first + static_cast<size_t>(i)];
      hf[i] = cpu_tensor(values.data(), MSW_DTYPE_F32,
                         std::vector<int64_t>(rec.hf_shape[i], rec.hf_shape[i] + rec.hf_ndim[i]));
    }
    throw_if_error(vt.megatron_to_hf(instance_->self(), m, gradients ? &p->grad : &p->value, hf.data()),
                   "model " + plugin_name() + ": converting " + rec.megatron_name + " to HF");
  }
  return out;
}

// ------------------------------------------------------------------------------------------------ compute

void ModelRunner::zero_grads() {
  for (auto& p : params_)
    if (p.grad_buffer.size()) std::memset(p.grad_buffer.data(), 0, p.grad_buffer.size());
}

msw_model_memory ModelRunner::memory(int64_t batch_size, int64_t seq_len) const {
  msw_model_shape shape{};
  shape.struct_size = sizeof(shape);
  shape.batch_size = batch_size;
  shape.seq_len = seq_len;
  msw_model_memory m{};
  m.struct_size = sizeof(m);
  throw_if_error(instance_->vt().memory(instance_->self(), &shape, &m), "model " + plugin_name() + ": memory");
  return m;
}

void ModelRunner::prepare_activations(int64_t b, int64_t s) {
  if (b == act_b_ && s == act_s_) return;
  mem_ = memory(b, s);
  const msw_device cpu{MSW_DEVICE_CPU, 0};
  const size_t hidden_bytes = static_cast<size_t>(b * s * info_.hidden_size) * sizeof(float);
  hidden_.clear();
  for (int64_t i = 0; i <= info_.num_layers; ++i) hidden_.emplace_back(cpu, hidden_bytes);
  layer_saved_.clear();
  for (int64_t i = 0; i < info_.num_layers; ++i) layer_saved_.emplace_back(cpu, mem_.layer_saved);
  embedding_saved_ = HostBuffer(cpu, mem_.embedding_saved);
  head_saved_ = HostBuffer(cpu, mem_.head_saved);
  workspace_ = HostBuffer(cpu, mem_.workspace);
  grad_a_ = HostBuffer(cpu, hidden_bytes);
  grad_b_ = HostBuffer(cpu, hidden_bytes);
  act_b_ = b;
  act_s_ = s;
}

msw_model_batch ModelRunner::make_batch(const Batch& batch) {
  const int64_t b = batch.batch_size, s = batch.seq_len;
  msw_model_batch mb{};
  mb.struct_size = sizeof(mb);
  mb.batch_size = b;
  mb.seq_len = s;
  mb.input_ids = cpu_tensor(const_cast<int64_t*>(batch.input_ids.data()), MSW_DTYPE_I64, {b, s});
  if (!batch.position_ids.empty())
    mb.position_ids = cpu_tensor(const_cast<int64_t*>(batch.position_ids.data()), MSW_DTYPE_I64, {b, s});
  if (!batch.labels.empty()) mb.labels = cpu_tensor(const_cast<int64_t*>(batch.labels.data()), MSW_DTYPE_I64, {b, s});
  return mb;
}

ForwardResult ModelRunner::forward(const Batch& batch, bool want_logits) {
  const int64_t b = batch.batch_size, s = batch.seq_len;
  if (b <= 0 || s <= 0) throw HostError(MSW_STATUS_INVALID_ARGUMENT, "batch_size and seq_len must be positive");
  const size_t n = static_cast<size_t>(b * s);
  if (batch.input_ids.size() != n)
    throw HostError(MSW_STATUS_INVALID_ARGUMENT, "batch has " + std::to_string(batch.input_ids.size()) +
                                                     " input ids, expected batch_size * seq_len = " + std::to_string(n));
  if (!batch.labels.empty() && batch.labels.size() != n)
    throw HostError(MSW_STATUS_INVALID_ARGUMENT, "batch has " + std::to_string(batch.labels.size()) +
                                                     " labels, expected " + std::to_string(n));
  if (!batch.position_ids.empty() && batch.position_ids.size() != n)
    throw HostError(MSW_STATUS_INVALID_ARGUMENT, "batch has " + std::to_string(batch.position_ids.size()) +
                                                     " position ids, expected " + std::to_string(n));
  prepare_activations(b, s);
  last_batch_ = batch;
  have_forward_ = false;
  const msw_model_batch mb = make_batch(last_batch_);
  const auto& vt = instance_->vt();
  void* self = instance_->self();
  const std::vector<int64_t> hshape = {b, s, info_.hidden_size};
  const msw_tensor ws = bytes_tensor(workspace_);
  const std::string who = "model " + plugin_name();

  const msw_tensor h0 = hidden_[0].tensor(MSW_DTYPE_F32, hshape);
  const msw_tensor es = bytes_tensor(embedding_saved_);
  throw_if_error(vt.embedding_forward(self, &ctx_, &mb, embedding_values_.data(), &es, &ws, &h0),
                 who + ": embedding forward");
  for (int64_t l = 0; l < info_.num_layers; ++l) {
    const msw_tensor x = hidden_[l].tensor(MSW_DTYPE_F32, hshape);
    const msw_tensor y = hidden_[l + 1].tensor(MSW_DTYPE_F32, hshape);
    const msw_tensor sv = bytes_tensor(layer_saved_[l]);
    throw_if_error(vt.layer_forward(self, &ctx_, l, &mb, layer_values_[l].data(), &x, &sv, &ws, &y),
                   who + ": layer " + std::to_string(l) + " forward");
  }
  ForwardResult r;
  msw_tensor logits{};
  if (want_logits) {
    r.logits.resize(n * static_cast<size_t>(info_.padded_vocab_size));
    logits = cpu_tensor(r.logits.data(), MSW_DTYPE_F32, {b, s, info_.padded_vocab_size});
  }
  const msw_tensor last = hidden_[info_.num_layers].tensor(MSW_DTYPE_F32, hshape);
  const msw_tensor hs = bytes_tensor(head_saved_);
  msw_model_loss loss{};
  throw_if_error(vt.head_forward(self, &ctx_, &mb, head_values_.data(), &last, &hs, &ws, want_logits ? &logits : nullptr,
                                 &loss),
                 who + ": head forward");
  r.loss_sum = loss.loss_sum;
  r.token_count = loss.token_count;
  have_forward_ = true;
  return r;
}

void ModelRunner::backward(double loss_scale) {
  if (!have_forward_) throw HostError(MSW_STATUS_INVALID_ARGUMENT, "backward called without a preceding forward");
  if (last_batch_.labels.empty()) throw HostError(MSW_STATUS_INVALID_ARGUMENT, "backward needs a batch with labels");
  have_forward_ = false;  // the head's saved logits are consumed
  const msw_model_batch mb = make_batch(last_batch_);
  const auto& vt = instance_->vt();
  void* self = instance_->self();
  const std::vector<int64_t> hshape = {act_b_, act_s_, info_.hidden_size};
  const msw_tensor ws = bytes_tensor(workspace_);
  const std::string who = "model " + plugin_name();
  msw_tensor da = grad_a_.tensor(MSW_DTYPE_F32, hshape), db = grad_b_.tensor(MSW_DTYPE_F32, hshape);

  const msw_tensor last = hidden_[info_.num_layers].tensor(MSW_DTYPE_F32, hshape);
  const msw_tensor hs = bytes_tensor(head_saved_);
  throw_if_error(vt.head_backward(self, &ctx_, &mb, head_values_.data(), &last, &hs, &ws, loss_scale, &da,
                                  head_grads_.data()),
                 who + ": head backward");
  for (int64_t l = info_.num_layers - 1; l >= 0; --l) {
    const msw_tensor x = hidden_[l].tensor(MSW_DTYPE_F32, hshape);
    const msw_tensor sv = bytes_tensor(layer_saved_[l]);
    throw_if_error(vt.layer_backward(self, &ctx_, l, &mb, layer_values_[l].data(), &x, &sv, &ws, &da, &db,
                                     layer_grads_[l].data()),
                   who + ": layer " + std::to_string(l) + " backward");
    std::swap(da, db);
  }
  const msw_tensor es = bytes_tensor(embedding_saved_);
  throw_if_error(vt.embedding_backward(self, &ctx_, &mb, embedding_values_.data(), &es, &ws, &da,
                                       embedding_grads_.data()),
                 who + ": embedding backward");
}

ForwardResult ModelRunner::forward_backward(const Batch& batch, bool want_logits) {
  ForwardResult r = forward(batch, want_logits);
  backward(r.token_count ? 1.0 / static_cast<double>(r.token_count) : 0.0);
  return r;
}

}  // namespace megaswift::host
