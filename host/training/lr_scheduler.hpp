// The learning-rate and weight-decay schedule of a run, as Megatron's OptimizerParamScheduler computes it:
// linear warm-up from 0 to --lr over --lr_warmup_iters, then --lr_decay_style (cosine, linear, constant) down to
// --min_lr at --lr_decay_iters, and --min_lr after that. Steps are counted in samples (an iteration advances by
// --global_batch_size), as Megatron counts them, so the saved state reads the same as Megatron's.
//
// The rate of a step is the one computed BEFORE it: the scheduler starts at step 0 (with warm-up the first
// iteration runs at lr 0, as in Megatron), and step() is called after every successful optimizer step; a step
// skipped for a NaN/Inf does not advance it.
#pragma once

#include <nlohmann/json.hpp>

#include <cstdint>
#include <string>

namespace megaswift::training {

struct LrScheduleOptions {
  double max_lr = 1e-5;
  double min_lr = 0.0;
  int64_t warmup_steps = 0;  // samples
  int64_t decay_steps = 0;   // samples; the schedule reaches min_lr here
  std::string decay_style = "cosine";
  double weight_decay = 0.0;  // constant over the run (Megatron's --weight_decay_incr_style constant)
};

class LrScheduler {
 public:
  explicit LrScheduler(LrScheduleOptions options);

  double lr() const { return lr_; }
  double weight_decay() const { return options_.weight_decay; }
  int64_t num_steps() const { return num_steps_; }
  // Advances by `increment` samples (the global batch size) and computes the next rate.
  void step(int64_t increment);
  // The rate at `num_steps` samples (pure; for tests and logging).
  double lr_at(int64_t num_steps) const;

  // Megatron's state_dict keys: max_lr, lr_warmup_steps, num_steps, lr_decay_style, lr_decay_steps, min_lr,
  // start_wd, end_wd, wd_incr_style, wd_incr_steps.
  nlohmann::json state() const;
  // Restores num_steps from a saved state. Like Megatron (without --override_opt_param_scheduler) the saved
  // schedule's settings must equal this run's: a differing one is a HostError naming the setting, both values and
  // the fix (keep the flag as it was, or pass --finetune / --no_load_optim to start a new schedule).
  void load_state(const nlohmann::json& state);

 private:
  LrScheduleOptions options_;
  int64_t num_steps_ = 0;
  double lr_ = 0;
};

}  // namespace megaswift::training
