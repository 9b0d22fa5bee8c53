#include "host/training/optimizer_driver.hpp"

#include "host/checkpoint/keys.hpp"
#include "host/core/host_api.hpp"
#include "host/core/device_copy.hpp"
#include "host/core/status.hpp"
#include "host/ops/ops_api.hpp"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <utility>

using nlohmann::json;

namespace megaswift::training {
namespace {

constexpr const char* kStatePrefix = "optimizer.state.";

msw_tensor scalar_tensor(const host::HostBuffer& b, int32_t dtype) { return b.tensor(dtype, {}); }

}  // namespace

OptimizerDriver::OptimizerDriver(const host::LoadedComponent& component, const json& config, host::ModelRunner& runner)
    : runner_(runner), name_(component.name) {
  vt_ = host::PluginRegistry::vtable_copy<msw_optimizer_vtable>(component);
  const std::string who = "optimizer plugin " + name_;
  host::throw_if_error(vt_.create(config.dump().c_str(), &self_), who + ": create");
  const int32_t count = vt_.state_count(self_);
  if (count < 0 || count > 16)
    throw host::HostError(MSW_STATUS_INTERNAL, who + " reports " + std::to_string(count) + " state tensors per parameter");
  for (int32_t i = 0; i < count; ++i) {
    const char* n = vt_.state_name(self_, i);
    if (!n || !*n) throw host::HostError(MSW_STATUS_INTERNAL, who + " gives no name for state " + std::to_string(i));
    state_names_.emplace_back(n);
  }
  const msw_device device = runner_.exec_ctx().device;
  const auto& params = runner_.params();
  using Group = host::ModelRunner::ParamGroup;
  const std::vector<size_t> decay = runner_.group_params(Group::decay), no_decay = runner_.group_params(Group::no_decay);
  std::vector<size_t> trainable;  // in parameter order: the checkpoint's order of the states
  for (size_t i = 0; i < params.size(); ++i)
    if (params[i].requires_grad) trainable.push_back(i);
  int64_t end = 0;
  state_base_ = trainable.empty() ? 0 : params[trainable.front()].arena_offset;
  for (size_t i : trainable) {
    state_base_ = std::min(state_base_, params[i].arena_offset);
    end = std::max(end, params[i].arena_offset + params[i].numel());
  }
  const size_t state_bytes = trainable.empty() ? 0 : static_cast<size_t>(end - state_base_) * sizeof(float);
  for (int32_t k = 0; k < count; ++k) state_arenas_.emplace_back(device, state_bytes, MSW_ALLOC_ZERO);
  for (size_t i : trainable) {
    const host::Parameter& p = params[i];
    Slot s;
    s.param = i;
    for (size_t k = 0; k < state_arenas_.size(); ++k) {
      msw_tensor t = state_span(k, p.arena_offset, p.arena_offset + p.numel());
      msw_tensor_set_dense_shape(&t, static_cast<int32_t>(p.shape.size()), p.shape.data());
      s.states.push_back(t);
    }
    slots_.push_back(std::move(s));
  }
  // Ranges only when every group is one: a parameter frozen or unfrozen after the runner was built leaves a hole
  // (whose elements must not be updated) or sits outside its group's range.
  const auto decay_range = runner_.arena_range(decay), no_decay_range = runner_.arena_range(no_decay);
  if ((decay.empty() || decay_range) && (no_decay.empty() || no_decay_range)) {
    for (const auto& [weight_decay, range] : {std::pair{true, decay_range}, std::pair{false, no_decay_range}}) {
      if (!range) continue;
      FlatGroup g;
      g.weight_decay = weight_decay;
      g.range = *range;
      for (size_t k = 0; k < state_arenas_.size(); ++k) g.states.push_back(state_span(k, range->begin, range->end));
      flat_groups_.push_back(std::move(g));
      norm_ranges_.push_back(*range);
    }
    // Adjacent groups (the runner's order) make one reduction.
    if (const auto all = runner_.arena_range(trainable); all && norm_ranges_.size() > 1) norm_ranges_ = {*all};
  }
  norm_scalar_ = host::HostBuffer(device, sizeof(double), MSW_ALLOC_ZERO);
  grad_scale_ = host::HostBuffer(device, sizeof(float), MSW_ALLOC_ZERO);
}

OptimizerDriver::~OptimizerDriver() {
  if (self_) vt_.destroy(self_);
}

msw_tensor OptimizerDriver::state_span(size_t state, int64_t begin, int64_t end) const {
  const std::vector<int64_t> shape = {end - begin};
  msw_tensor t = state_arenas_[state].tensor(MSW_DTYPE_F32, {end - state_base_});
  t.data = static_cast<float*>(t.data) + (begin - state_base_);
  msw_tensor_set_dense_shape(&t, 1, shape.data());
  return t;
}

double OptimizerDriver::sum_of_squares(bool gradients) const {
  const msw_exec_ctx& ctx = runner_.exec_ctx();
  const auto& params = runner_.params();
  const msw_tensor out = scalar_tensor(norm_scalar_, MSW_DTYPE_F64);
  bool first = true;
  auto reduce = [&](const msw_tensor& x, const std::string& what) {
    msw_sum_squares_args a{};
    a.struct_size = sizeof(a);
    a.x = x;
    a.out = out;
    a.accumulate = first ? 0 : 1;
    host::throw_if_error(host::ops_api().sum_squares(&ctx, &a), "sum of squares of " + what);
    first = false;
  };
  const auto arena = gradients ? host::ModelRunner::Arena::grad : host::ModelRunner::Arena::value;
  if (!norm_ranges_.empty()) {
    for (const auto& r : norm_ranges_) reduce(runner_.arena_span(arena, r.begin, r.end), "the trainable parameters");
  } else {
    for (const Slot& s : slots_) {
      const host::Parameter& p = params[s.param];
      reduce(gradients ? p.grad : p.value, p.name);
    }
  }
  if (first) return 0.0;
  double v = 0;  // copy_to_host waits for the stream to pass the reductions
  host::copy_to_host(ctx.device, &v, norm_scalar_.data(), sizeof v, ctx.stream, "optimizer: the norm");
  return v;
}

double OptimizerDriver::grad_norm() const { return std::sqrt(sum_of_squares(true)) / loss_scale(); }

void OptimizerDriver::enable_loss_scaling(const LossScalerOptions& options) { scaler_.emplace(options); }

bool OptimizerDriver::skip_overflow(double grad_norm) {
  if (!scaler_ || std::isfinite(grad_norm)) return false;
  scaler_->update(true);
  return true;
}
double OptimizerDriver::params_norm() const { return std::sqrt(sum_of_squares(false)); }

StepStats OptimizerDriver::step(double grad_norm, double lr, double weight_decay, double clip_grad) {
  StepStats stats;
  stats.grad_norm = grad_norm;
  // Megatron: clip_coeff = max_norm / (total_norm + 1e-6), applied only when below 1.
  if (clip_grad > 0) {
    const double coeff = clip_grad / (grad_norm + 1e-6);
    if (coeff < 1.0) stats.clip_factor = coeff;
  }
  // The gradients hold loss_scale x the true values under fp16 loss scaling: the update reads them unscaled.
  const float scale = static_cast<float>(stats.clip_factor / loss_scale());
  host::copy_to_device(runner_.exec_ctx().device, grad_scale_.data(), &scale, sizeof scale, runner_.exec_ctx().stream,
                       "optimizer: the gradient scale");

  const auto& params = runner_.params();
  std::vector<msw_optimizer_param> records;
  auto record = [&records](bool weight_decay, const msw_tensor& param, const msw_tensor& grad,
                           const std::vector<msw_tensor>& states) {
    msw_optimizer_param r{};
    r.struct_size = sizeof(r);
    r.apply_weight_decay = weight_decay ? 1 : 0;
    r.param = param;
    r.grad = grad;
    r.states = const_cast<msw_tensor*>(states.data());
    r.state_count = states.size();
    r.lr_mult = 1.0;
    records.push_back(r);
  };
  if (!flat_groups_.empty()) {
    using Arena = host::ModelRunner::Arena;
    for (const FlatGroup& g : flat_groups_)
      record(g.weight_decay, runner_.arena_span(Arena::value, g.range.begin, g.range.end),
             runner_.arena_span(Arena::grad, g.range.begin, g.range.end), g.states);
  } else {
    for (const Slot& s : slots_) {
      const host::Parameter& p = params[s.param];
      record(p.info.weight_decay != 0, p.value, p.grad, s.states);
    }
  }
  step_records_ = records.size();
  msw_optimizer_step_args a{};
  a.struct_size = sizeof(a);
  a.step = steps_ + 1;
  a.lr = lr;
  a.weight_decay = weight_decay;
  a.params = records.data();
  a.count = records.size();
  a.param_size = sizeof(msw_optimizer_param);
  if (scale != 1.0f) a.grad_scale = scalar_tensor(grad_scale_, MSW_DTYPE_F32);
  host::throw_if_error(vt_.step(self_, &runner_.exec_ctx(), &a), "optimizer plugin " + name_ + ": step");
  runner_.weights_changed();  // the main weights moved: mixed precision recasts the compute copies
  if (scaler_) scaler_->update(false);
  ++steps_;
  return stats;
}

std::vector<host::TensorShard> OptimizerDriver::state_shards() const {
  const int64_t layers = runner_.info().num_layers;
  const auto& params = runner_.params();
  std::vector<host::TensorShard> out;
  for (const Slot& s : slots_) {
    const host::Parameter& p = params[s.param];
    const host::ShardedKey k = host::sharded_key(p.name, p.shape, layers);
    for (size_t i = 0; i < s.states.size(); ++i) {
      msw_tensor data = s.states[i];
      msw_tensor_set_dense_shape(&data, static_cast<int32_t>(k.shape.size()), k.shape.data());
      out.push_back({kStatePrefix + state_names_[i] + "." + k.key, k.global_shape, k.offset, data});
    }
  }
  return out;
}

json OptimizerDriver::state_record() const {
  json r = {{"name", name_}, {"step", steps_}, {"state_names", state_names_}};
  if (scaler_) r["grad_scaler"] = scaler_->state();
  return r;
}

void OptimizerDriver::load(const host::CheckpointReader& reader, const json& record) {
  if (!record.is_object() || !record.contains("name") || !record.contains("step"))
    throw host::HostError(MSW_STATUS_NOT_FOUND,
                          "the checkpoint in " + reader.dir().string() +
                              " holds no optimizer state (saved with --no_save_optim, or by a conversion); pass "
                              "--no_load_optim true (or --finetune true) to start the optimizer afresh");
  const std::string saved = record["name"].get<std::string>();
  if (saved != name_)
    throw host::HostError(MSW_STATUS_INVALID_ARGUMENT,
                          "the checkpoint's optimizer state is of --optimizer " + saved + " but this run uses --optimizer " +
                              name_ + "; use --optimizer " + saved + ", or pass --no_load_optim true to start " + name_ +
                              " afresh");
  for (host::TensorShard& shard : state_shards()) {
    if (!reader.find(shard.key))
      throw host::HostError(MSW_STATUS_NOT_FOUND, "the checkpoint in " + reader.dir().string() + " has no tensor " +
                                                      shard.key + " (optimizer state of this model); pass "
                                                      "--no_load_optim true to start the optimizer afresh");
    host::read_into(reader, shard, runner_.exec_ctx().stream);
  }
  steps_ = record["step"].get<int64_t>();
  // A run saved in bf16/fp32 and resumed in fp16 starts the scaler afresh (there is nothing to restore).
  if (scaler_ && record.contains("grad_scaler")) scaler_->load(record["grad_scaler"]);
}

}  // namespace megaswift::training
