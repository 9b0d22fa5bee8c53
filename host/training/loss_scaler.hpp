// Dynamic loss scaling for fp16 training, with Megatron-Core's DynamicGradScaler rules: the loss is multiplied by
// `scale` before backward so small fp16 gradients do not flush to zero; a step whose gradients overflowed (a
// non-finite norm) is skipped, and after `hysteresis` such steps in a row the scale is multiplied by
// `backoff_factor` (never below `min_scale`); after `growth_interval` clean steps in a row it is multiplied by
// `growth_factor` and the hysteresis budget refills. bf16 and fp32 need none (their exponent range is fp32's).
#pragma once

#include <nlohmann/json.hpp>

#include <cstdint>

namespace megaswift::training {

struct LossScalerOptions {
  double initial_scale = 4294967296.0;  // 2^32, Megatron's --initial_loss_scale default
  double min_scale = 1.0;
  double growth_factor = 2.0;
  double backoff_factor = 0.5;
  int64_t growth_interval = 1000;  // Megatron's --loss_scale_window
  int64_t hysteresis = 2;
};

class DynamicLossScaler {
 public:
  explicit DynamicLossScaler(LossScalerOptions options = {});
  double scale() const { return scale_; }
  // After each step: whether its gradients overflowed.
  void update(bool found_inf);
  // The state a checkpoint keeps (scale and both trackers), and its restore; a record of another shape is an error
  // naming the field.
  nlohmann::json state() const;
  void load(const nlohmann::json& state);

 private:
  LossScalerOptions options_;
  double scale_;
  int64_t growth_tracker_ = 0;
  int64_t hysteresis_tracker_;
};

}  // namespace megaswift::training
