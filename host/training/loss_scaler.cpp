#include "host/training/loss_scaler.hpp"

#include "host/core/status.hpp"

#include <algorithm>
#include <cmath>

namespace megaswift::training {

DynamicLossScaler::DynamicLossScaler(LossScalerOptions options)
    : options_(options), scale_(options.initial_scale), hysteresis_tracker_(options.hysteresis) {
  if (!(options.initial_scale > 0) || !(options.min_scale > 0) || !(options.growth_factor > 1) ||
      !(options.backoff_factor > 0 && options.backoff_factor < 1) || options.growth_interval < 1 || options.hysteresis < 1)
    throw host::HostError(MSW_STATUS_INVALID_ARGUMENT,
                          "loss scaler: the initial and minimum scales must be positive, the growth factor above 1, the "
                          "backoff factor in (0, 1), the growth interval and hysteresis at least 1");
}

void DynamicLossScaler::update(bool found_inf) {
  if (found_inf) {
    growth_tracker_ = 0;
    if (--hysteresis_tracker_ <= 0) scale_ = std::max(scale_ * options_.backoff_factor, options_.min_scale);
    return;
  }
  if (++growth_tracker_ == options_.growth_interval) {
    growth_tracker_ = 0;
    hysteresis_tracker_ = options_.hysteresis;
    scale_ *= options_.growth_factor;
  }
}

nlohmann::json DynamicLossScaler::state() const {
  return {{"scale", scale_}, {"growth_tracker", growth_tracker_}, {"hysteresis_tracker", hysteresis_tracker_}};
}

void DynamicLossScaler::load(const nlohmann::json& state) {
  auto field = [&](const char* name) -> const nlohmann::json& {
    if (!state.is_object() || !state.contains(name) || !state[name].is_number())
      throw host::HostError(MSW_STATUS_INVALID_ARGUMENT, std::string("the checkpoint's loss-scaler state has no number \"") +
                                                             name + "\"; pass --no_load_optim true to start it afresh");
    return state[name];
  };
  const double scale = field("scale").get<double>();
  if (!(scale > 0) || !std::isfinite(scale))
    throw host::HostError(MSW_STATUS_INVALID_ARGUMENT, "the checkpoint's loss scale is " + std::to_string(scale) +
                                                           "; pass --no_load_optim true to start the scaler afresh");
  scale_ = scale;
  growth_tracker_ = field("growth_tracker").get<int64_t>();
  hysteresis_tracker_ = field("hysteresis_tracker").get<int64_t>();
}

}  // namespace megaswift::training
