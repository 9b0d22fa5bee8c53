#include "host/training/lr_scheduler.hpp"

#include "host/core/status.hpp"

#include <cmath>
#include <numbers>

namespace megaswift::training {

using nlohmann::json;

LrScheduler::LrScheduler(LrScheduleOptions options) : options_(std::move(options)) {
  if (options_.decay_style != "cosine" && options_.decay_style != "linear" && options_.decay_style != "constant")
    throw host::HostError(MSW_STATUS_INVALID_ARGUMENT, "--lr_decay_style " + options_.decay_style +
                                                           " is not a schedule: use cosine, linear or constant");
  if (options_.decay_style != "constant" && options_.decay_steps <= options_.warmup_steps && options_.decay_steps > 0)
    throw host::HostError(MSW_STATUS_INVALID_ARGUMENT,
                          "--lr_decay_iters must be larger than --lr_warmup_iters (the decay starts after the warm-up); "
                          "lower --lr_warmup_iters or raise --lr_decay_iters");
  step(0);
}

double LrScheduler::lr_at(int64_t n) const {
  const LrScheduleOptions& o = options_;
  if (o.warmup_steps > 0 && n <= o.warmup_steps)
    return o.max_lr * static_cast<double>(n) / static_cast<double>(o.warmup_steps);
  if (o.decay_style == "constant") return o.max_lr;
  if (n > o.decay_steps) return o.min_lr;
  const double ratio =
      static_cast<double>(n - o.warmup_steps) / static_cast<double>(o.decay_steps - o.warmup_steps);
  const double coeff = o.decay_style == "linear" ? 1.0 - ratio : 0.5 * (std::cos(std::numbers::pi * ratio) + 1.0);
  return o.min_lr + coeff * (o.max_lr - o.min_lr);
}

void LrScheduler::step(int64_t increment) {
  num_steps_ += increment;
  lr_ = lr_at(num_steps_);
}

json LrScheduler::state() const {
  return {{"max_lr", options_.max_lr},
          {"lr_warmup_steps", options_.warmup_steps},
          {"num_steps", num_steps_},
          {"lr_decay_style", options_.decay_style},
          {"lr_decay_steps", options_.decay_steps},
          {"min_lr", options_.min_lr},
          {"start_wd", options_.weight_decay},
          {"end_wd", options_.weight_decay},
          {"wd_incr_style", "constant"},
          {"wd_incr_steps", options_.decay_steps}};
}

void LrScheduler::load_state(const json& state) {
  if (!state.is_object() || !state.contains("num_steps") || !state["num_steps"].is_number_integer())
    throw host::HostError(MSW_STATUS_INVALID_ARGUMENT,
                          "the checkpoint's opt_param_scheduler state has no integer num_steps; it is not a "
                          "Megatron scheduler state (pass --finetune true to start a new schedule)");
  auto check = [&](const char* key, const json& ours, const char* flag) {
    if (!state.contains(key)) return;
    const json& saved = state[key];
    const bool same = saved.is_number() && ours.is_number()
                          ? std::abs(saved.get<double>() - ours.get<double>()) <= 1e-12 * std::max(1.0, std::abs(ours.get<double>()))
                          : saved == ours;
    if (!same)
      throw host::HostError(MSW_STATUS_INVALID_ARGUMENT,
                            std::string("the checkpoint's learning-rate schedule has ") + key + " = " + saved.dump() +
                                " but this run computes " + ours.dump() + " (from " + flag +
                                "); resume with the flags the run was started with, or pass --finetune true (or "
                                "--no_load_optim true) to start a new schedule");
  };
  check("max_lr", options_.max_lr, "--lr");
  check("min_lr", options_.min_lr, "--min_lr");
  check("lr_warmup_steps", options_.warmup_steps, "--lr_warmup_iters x --global_batch_size");
  check("lr_decay_steps", options_.decay_steps, "--lr_decay_iters x --global_batch_size");
  check("lr_decay_style", options_.decay_style, "--lr_decay_style");
  num_steps_ = state["num_steps"].get<int64_t>();
  lr_ = lr_at(num_steps_);
}

}  // namespace megaswift::training
