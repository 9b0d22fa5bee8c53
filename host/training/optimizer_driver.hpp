// The host side of the optimizer (--optimizer): one instance of the optimizer plugin, its state tensors (allocated
// zero-filled by the host on the parameters' device, one set per trainable parameter, with the names the plugin
// reports), the global gradient norm and clipping, and the step.
//
// Each state is one arena laid out as the runner's parameter arenas (the same offsets, from the first trainable
// parameter's on), so when the trainable parameters of each weight-decay group are one range of the arenas (the
// runner's order, unless set_requires_grad changed a parameter after the runner was built) the norms are one
// sum_squares per range and the step passes the plugin one record per group spanning its range, padding included
// (zeros, which the updates keep at zero). Otherwise everything goes per parameter. A flat record is what a
// distributed optimizer's shard is anyway (a range of the flattened parameters), so plugins already treat a
// record elementwise; both in-tree plugins (adam, sgd) do. One difference shows only with adam_eps 0: an element
// whose gradient was always zero updates by 0/0 there (as in torch), so the padding turns NaN like such elements
// do, and the params norm, which sums over the padding, reads NaN.
//
// Main weights are the runner's fp32 parameters (Parameter::value) and gradients its fp32 gradients, under mixed
// precision too (Megatron's main params and main grads); after a step the runner recasts its 16-bit compute copies. Clipping does not rewrite the gradients: the clip factor travels to the plugin as the
// step's grad_scale device scalar, which multiplies each gradient as it is read (Megatron multiplies them in place
// first; the update is the same).
//
// In a checkpoint the state of parameter P is stored as "optimizer.state.<state name>.<key of P>" (stacked layers
// as the parameters are) and the step count in the common state, as Megatron's distributed optimizer keys them.
#pragma once

#include "host/checkpoint/format.hpp"
#include "host/model/model_runner.hpp"
#include "host/plugin_host/registry.hpp"
#include "host/training/loss_scaler.hpp"

#include <megaswift/c/optimizer.h>

#include <nlohmann/json.hpp>

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace megaswift::training {

struct StepStats {
  double grad_norm = 0;  // before clipping
  double clip_factor = 1;
};

class OptimizerDriver {
 public:
  // `config` holds the run's arguments (adam_beta1, adam_beta2, adam_eps, sgd_momentum, ...).
  OptimizerDriver(const host::LoadedComponent& component, const nlohmann::json& config, host::ModelRunner& runner);
  ~OptimizerDriver();
  OptimizerDriver(const OptimizerDriver&) = delete;
  OptimizerDriver& operator=(const OptimizerDriver&) = delete;

  const std::string& name() const { return name_; }
  const std::vector<std::string>& state_names() const { return state_names_; }
  int64_t steps_taken() const { return steps_; }

  // fp16 training: the loss is scaled by loss_scale() before backward (the caller multiplies), the gradients hold
  // the scaled values, and grad_norm() and step() undo the scale; a step whose norm is not finite is an overflow
  // (skip_overflow). Megatron keeps the scaler in its optimizer too, and so in the checkpoint's optimizer state.
  void enable_loss_scaling(const LossScalerOptions& options = {});
  double loss_scale() const { return scaler_ ? scaler_->scale() : 1.0; }
  // Under loss scaling, a non-finite gradient norm is an overflow: the scaler backs off and true says to skip the
  // step (the weights and the optimizer state stay as they are). False without loss scaling or for a finite norm.
  bool skip_overflow(double grad_norm);

  // The global L2 norm of the trainable parameters' gradients, unscaled (one host read); non-finite when a
  // gradient is.
  double grad_norm() const;
  // The global L2 norm of the trainable parameters (Megatron's --log_params_norm).
  double params_norm() const;
  // Clips to `clip_grad` (0: no clipping) on `grad_norm` and applies one update with this step's lr and weight
  // decay (weight decay only on parameters that declare it: matrices, not biases or norms).
  StepStats step(double grad_norm, double lr, double weight_decay, double clip_grad);

  // The state tensors as checkpoint shards (pointing into this driver's memory) and the common-state record.
  std::vector<host::TensorShard> state_shards() const;
  nlohmann::json state_record() const;
  // Restores every state tensor and the step count; the record's optimizer must be this one and every state
  // tensor must be stored (errors name the key and the fix: --no_load_optim true).
  void load(const host::CheckpointReader& reader, const nlohmann::json& record);

  // Records the last step() passed the plugin: one per weight-decay group over the arenas, or one per parameter.
  size_t step_records() const { return step_records_; }
  // Reductions a norm runs: one per contiguous range, or one per parameter.
  size_t norm_reductions() const { return norm_ranges_.empty() ? slots_.size() : norm_ranges_.size(); }

 private:
  struct Slot {
    size_t param = 0;                 // index into runner.params()
    std::vector<msw_tensor> states;   // views into state_arenas_
  };
  // One weight-decay group as a single record.
  struct FlatGroup {
    bool weight_decay = false;
    host::ModelRunner::ArenaRange range;
    std::vector<msw_tensor> states;
  };
  double sum_of_squares(bool gradients) const;
  msw_tensor state_span(size_t state, int64_t begin, int64_t end) const;

  host::ModelRunner& runner_;
  std::string name_;
  msw_optimizer_vtable vt_{};
  void* self_ = nullptr;
  std::vector<std::string> state_names_;
  std::vector<Slot> slots_;
  std::vector<host::HostBuffer> state_arenas_;  // per state: the runner's arena elements [state_base_, ...)
  int64_t state_base_ = 0;
  std::vector<FlatGroup> flat_groups_;                    // empty: per-parameter records
  std::vector<host::ModelRunner::ArenaRange> norm_ranges_;  // empty: per-parameter reductions
  size_t step_records_ = 0;
  host::HostBuffer norm_scalar_, grad_scale_;  // device scalars (F64, F32)
  std::optional<DynamicLossScaler> scaler_;
  int64_t steps_ = 0;
};

}  // namespace megaswift::training
