// C++ layer for optimizer plugins: derive from Optimizer, construct from the config JSON text, and
// register with optimizer_component<T>(). See megaswift/c/optimizer.h for the contract.
//
// The trampoline reads the step's args through the caller's struct_size and every parameter record
// through its struct_size and the array's param_size, so an Optimizer sees one OptimizerStep in which
// members the caller did not write are absent (grad_scale, found_inf) or their default (lr_mult 1).
#pragma once

#include <megaswift/c/optimizer.h>
#include <megaswift/sdk/object.hpp>
#include <megaswift/sdk/plugin.hpp>
#include <megaswift/sdk/records.hpp>
#include <megaswift/sdk/tensor.hpp>

#include <algorithm>
#include <cstring>
#include <string>
#include <string_view>
#include <type_traits>
#include <vector>

namespace megaswift::sdk {

// The members a reader cannot do without; a shorter struct is malformed. Everything after them is
// optional: read as zero (absent, or its documented default) when the writer's struct_size stops before.
inline constexpr size_t kOptimizerStepArgsMinSize = offsetof(msw_optimizer_step_args, param_size) + sizeof(size_t);
inline constexpr size_t kOptimizerParamMinSize = offsetof(msw_optimizer_param, grad) + sizeof(msw_tensor);

// One parameter shard of a step.
struct OptimizerParam {
  msw_tensor param{};          // main weights, updated in place
  msw_tensor grad{};           // read only
  const msw_tensor* states = nullptr;
  size_t state_count = 0;
  bool apply_weight_decay = false;
  double lr_mult = 1.0;        // the record's 0 (or a record too short to hold it) is read as 1

  const msw_tensor& state(size_t i) const {
    if (i >= state_count)
      throw Error(MSW_STATUS_INVALID_ARGUMENT, "optimizer: state " + std::to_string(i) + " asked of a parameter with " +
                                                   std::to_string(state_count) + " states");
    return states[i];
  }
};

// The arguments of one step, as the caller meant them.
struct OptimizerStep {
  int64_t step = 0;
  double lr = 0;
  double weight_decay = 0;
  std::vector<OptimizerParam> params;
  msw_tensor grad_scale{};     // absent (msw_tensor_is_absent) when not given
  msw_tensor found_inf{};      // absent when not given

  bool has_grad_scale() const { return !msw_tensor_is_absent(&grad_scale); }
  bool has_found_inf() const { return !msw_tensor_is_absent(&found_inf); }

  // Reads `a` through its struct_size and the records through their struct_size and param_size;
  // every parameter must carry at least `states_per_param` states.
  static OptimizerStep read(const msw_optimizer_step_args& a, size_t states_per_param) {
    if (a.struct_size < kOptimizerStepArgsMinSize)
      throw Error(MSW_STATUS_INVALID_ARGUMENT, "optimizer step: args.struct_size " + std::to_string(a.struct_size) +
                                                   " is smaller than the " + std::to_string(kOptimizerStepArgsMinSize) +
                                                   " bytes every msw_optimizer_step_args has");
    OptimizerStep s;
    s.step = a.step;
    s.lr = a.lr;
    s.weight_decay = a.weight_decay;
    if (MSW_HAS_MEMBER(&a, msw_optimizer_step_args, grad_scale)) s.grad_scale = a.grad_scale;
    if (MSW_HAS_MEMBER(&a, msw_optimizer_step_args, found_inf)) s.found_inf = a.found_inf;
    s.params.reserve(a.count);
    for (const msw_optimizer_param& r :
         read_records(a.params, a.count, a.param_size, "optimizer step: parameter", kOptimizerParamMinSize)) {
      OptimizerParam p;
      p.param = r.param;
      p.grad = r.grad;
      p.states = r.states;
      p.state_count = r.states ? r.state_count : 0;
      p.apply_weight_decay = r.apply_weight_decay != 0;
      p.lr_mult = r.lr_mult != 0 ? r.lr_mult : 1.0;
      if (p.state_count < states_per_param)
        throw Error(MSW_STATUS_INVALID_ARGUMENT, "optimizer step: parameter " + std::to_string(s.params.size()) + " carries " +
                                                     std::to_string(p.state_count) + " state tensors, the optimizer " +
                                                     "needs " + std::to_string(states_per_param));
      s.params.push_back(p);
    }
    return s;
  }
};

// The value of a scalar tensor that lives in host memory (CPU or pinned), for optimizers that run on the
// CPU; a CUDA tensor is UNSUPPORTED (a GPU optimizer reads its scalars in its kernels).
inline double cpu_scalar_value(const msw_tensor& t, const char* what) {
  if (t.device.type != MSW_DEVICE_CPU && t.device.type != MSW_DEVICE_CUDA_HOST)
    throw Error(MSW_STATUS_UNSUPPORTED, std::string(what) + ": a CPU optimizer reads this scalar on the host, but it "
                                                            "lives on device type " + std::to_string(t.device.type));
  if (!t.data || msw_tensor_numel(&t) < 1)
    throw Error(MSW_STATUS_INVALID_ARGUMENT, std::string(what) + ": an empty tensor is not a scalar");
  const char* p = static_cast<const char*>(t.data) + t.byte_offset;
  switch (t.dtype) {
    case MSW_DTYPE_F32: { float v; std::memcpy(&v, p, sizeof v); return v; }
    case MSW_DTYPE_F64: { double v; std::memcpy(&v, p, sizeof v); return v; }
    case MSW_DTYPE_I32: { int32_t v; std::memcpy(&v, p, sizeof v); return v; }
    case MSW_DTYPE_I64: { int64_t v; std::memcpy(&v, p, sizeof v); return static_cast<double>(v); }
    case MSW_DTYPE_U8: case MSW_DTYPE_BOOL: return static_cast<unsigned char>(*p);
    default:
      throw Error(MSW_STATUS_INVALID_ARGUMENT, std::string(what) + ": a scalar of dtype " + dtype_name(t.dtype) +
                                                   " is not supported (use F32, F64, I32, I64, U8 or BOOL)");
  }
}

// CPU optimizers: whether found_inf says this step must change nothing (fp16 loss scaling), and the factor
// gradients are multiplied by first (grad_scale, or 1 when absent).
inline bool cpu_step_skipped(const OptimizerStep& s) {
  return s.has_found_inf() && cpu_scalar_value(s.found_inf, "optimizer found_inf") != 0;
}
inline double cpu_grad_multiplier(const OptimizerStep& s) {
  return s.has_grad_scale() ? cpu_scalar_value(s.grad_scale, "optimizer grad_scale") : 1.0;
}

class Optimizer {
 public:
  virtual ~Optimizer() = default;
  // Number and names of per-parameter state tensors (Adam: exp_avg, exp_avg_sq).
  virtual int32_t state_count() const = 0;
  virtual const char* state_name(int32_t index) const = 0;
  // One update of every parameter in `step`, in place.
  virtual void step(const msw_exec_ctx& ctx, const OptimizerStep& step) = 0;
};

namespace detail {
template <class T>
struct OptimizerTrampolines {
  // A negative count tells the host the plugin failed (the message is in the log).
  static int32_t state_count(const void* self) noexcept {
    return guard_value<int32_t>(-1, "optimizer state_count",
                                [&] { return self_cast_const<T>(self).state_count(); });
  }
  static const char* state_name(const void* self, int32_t index) noexcept {
    return guard_value<const char*>(nullptr, "optimizer state_name",
                                    [&] { return self_cast_const<T>(self).state_name(index); });
  }
  static msw_status* step(void* self, const msw_exec_ctx* ctx, const msw_optimizer_step_args* args) noexcept {
    return guard([&] {
      if (!ctx || !args) throw Error(MSW_STATUS_INVALID_ARGUMENT, "optimizer step: ctx and args must not be NULL");
      T& opt = self_cast<T>(self);
      const int32_t states = opt.state_count();
      opt.step(*ctx, OptimizerStep::read(*args, static_cast<size_t>(std::max<int32_t>(states, 0))));
    });
  }
  static constexpr msw_optimizer_vtable vtable = {sizeof(msw_optimizer_vtable), create_instance<T>,
                                                  destroy_instance<T>,          state_count,
                                                  state_name,                   step};
};
}  // namespace detail

template <class T>
msw_component optimizer_component(const char* name, const char* version, const char* summary) {
  static_assert(std::is_base_of_v<Optimizer, T>, "T must derive from megaswift::sdk::Optimizer");
  return make_component(MSW_KIND_OPTIMIZER, name, version, summary, &detail::OptimizerTrampolines<T>::vtable);
}

}  // namespace megaswift::sdk
