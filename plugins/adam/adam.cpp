// The "adam" optimizer (--optimizer adam): AdamW with decoupled weight decay and bias correction, as
// torch.optim.AdamW and Megatron's (apex/TE FusedAdam with adam_w_mode). Per parameter, with g the gradient
// (times grad_scale when the host gives one), lr the step's learning rate times the parameter's lr_mult and wd
// the step's weight decay where the host applies it (not to biases and norms):
//   p *= 1 - lr * wd;  m = b1 m + (1 - b1) g;  v = b2 v + (1 - b2) g^2
//   p -= lr / (1 - b1^t) * m / (sqrt(v) / sqrt(1 - b2^t) + eps)
// The arithmetic is the host's ops table entry adamw_step (ABI 2.2), one call for all parameters, so this plugin
// runs unchanged on every device the host has kernels for. State names are Megatron's and torch's: exp_avg (m)
// and exp_avg_sq (v), which is what checkpoints store.
#define MSW_PLUGIN_TARGET_MINOR 2

#include <megaswift/c/ops.h>
#include <megaswift/sdk/log.hpp>
#include <megaswift/sdk/optimizer.hpp>
#include <megaswift/sdk/plugin_config.hpp>
#include <megaswift/sdk/status.hpp>

#include <nlohmann/json.hpp>

#include <cmath>
#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

namespace {

namespace sdk = megaswift::sdk;

const msw_ops_api& adamw_ops() { return sdk::require_host_op(offsetof(msw_ops_api, adamw_step), "adamw_step", 2, "adam"); }

class Adam final : public sdk::Optimizer {
 public:
  explicit Adam(std::string_view config_text) {
    const nlohmann::json config = sdk::parse_config_object(config_text, "adam", "the parsed arguments (adam_beta1, adam_beta2, adam_eps)");
    beta1_ = sdk::config_number(config, "adam_beta1", 0.9, "adam");
    beta2_ = sdk::config_number(config, "adam_beta2", 0.95, "adam");
    eps_ = sdk::config_number(config, "adam_eps", 1e-8, "adam");
    if (!(beta1_ >= 0 && beta1_ < 1) || !(beta2_ >= 0 && beta2_ < 1))
      throw sdk::Error(MSW_STATUS_INVALID_ARGUMENT,
                       "adam: adam_beta1 (" + std::to_string(beta1_) + ") and adam_beta2 (" + std::to_string(beta2_) +
                           ") must lie in [0, 1): 1 would make the bias correction divide by zero");
    if (!(eps_ >= 0) || !std::isfinite(eps_))
      throw sdk::Error(MSW_STATUS_INVALID_ARGUMENT, "adam: adam_eps must be a finite number >= 0, got " + std::to_string(eps_));
    adamw_ops();  // refuse a host without the op now rather than at the first step
    sdk::log_debug("adam", "beta1=" + std::to_string(beta1_) + " beta2=" + std::to_string(beta2_) +
                               " eps=" + std::to_string(eps_));
  }

  int32_t state_count() const override { return 2; }
  const char* state_name(int32_t index) const override {
    return index == 0 ? "exp_avg" : index == 1 ? "exp_avg_sq" : nullptr;
  }

  void step(const msw_exec_ctx& ctx, const sdk::OptimizerStep& s) override {
    const msw_ops_api& ops = adamw_ops();
    params_.assign(s.params.size(), msw_adamw_param{});
    for (size_t i = 0; i < s.params.size(); ++i) {
      const sdk::OptimizerParam& p = s.params[i];
      msw_adamw_param& r = params_[i];
      r.struct_size = sizeof(r);
      r.apply_weight_decay = p.apply_weight_decay ? 1 : 0;
      r.param = p.param;
      r.grad = p.grad;
      r.exp_avg = p.state(0);
      r.exp_avg_sq = p.state(1);
      r.lr_mult = p.lr_mult;
    }
    msw_adamw_step_args a{};
    a.struct_size = sizeof(a);
    a.params = params_.data();
    a.count = params_.size();
    a.param_size = sizeof(msw_adamw_param);
    a.lr = s.lr;
    a.weight_decay = s.weight_decay;
    a.beta1 = beta1_;
    a.beta2 = beta2_;
    a.eps = eps_;
    a.step = s.step;
    a.grad_scale = s.grad_scale;
    a.found_inf = s.found_inf;
    sdk::check(ops.adamw_step(&ctx, &a));
  }

 private:
  double beta1_ = 0.9;
  double beta2_ = 0.95;
  double eps_ = 1e-8;
  std::vector<msw_adamw_param> params_;  // reused: steps are never concurrent on one instance
};

}  // namespace

MEGASWIFT_PLUGIN("adam", "1.0.0",
                 megaswift::sdk::optimizer_component<Adam>("adam", "1.0.0",
                                                           "AdamW (decoupled weight decay), as torch.optim.AdamW"))
