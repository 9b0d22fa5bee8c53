// The "sgd" optimizer (--optimizer sgd): SGD with momentum and weight decay, as torch.optim.SGD (which Megatron
// uses with --sgd_momentum): the decay is coupled, added to the gradient, and the momentum buffer starts as the
// first step's direction. Per parameter, with g the gradient (times grad_scale when the host gives one), lr the
// step's learning rate times the parameter's lr_mult and wd the step's weight decay where the host applies it:
//   d = g + wd * p;  buf = (first step) ? d : momentum * buf + d;  p -= lr * buf
// The arithmetic is the host's ops table entry sgd_step (ABI 2.2), one call for all parameters, so this plugin
// runs unchanged on every device the host has kernels for. Its one state is torch's momentum_buffer.
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

const msw_ops_api& sgd_ops() { return sdk::require_host_op(offsetof(msw_ops_api, sgd_step), "sgd_step", 2, "sgd"); }

class Sgd final : public sdk::Optimizer {
 public:
  explicit Sgd(std::string_view config_text) {
    momentum_ = sdk::config_number(sdk::parse_config_object(config_text, "sgd", "the parsed arguments (sgd_momentum)"),
                                   "sgd_momentum", 0.9, "sgd");
    if (!(momentum_ >= 0) || !std::isfinite(momentum_))
      throw sdk::Error(MSW_STATUS_INVALID_ARGUMENT, "sgd: sgd_momentum must be a finite number >= 0, got " +
                                                        std::to_string(momentum_));
    sgd_ops();  // refuse a host without the op now rather than at the first step
    sdk::log_debug("sgd", "momentum=" + std::to_string(momentum_));
  }

  // The host allocates and checkpoints the buffer even with momentum 0 (torch then keeps none): one state
  // layout whatever the flags, and the op leaves it untouched.
  int32_t state_count() const override { return 1; }
  const char* state_name(int32_t index) const override { return index == 0 ? "momentum_buffer" : nullptr; }

  void step(const msw_exec_ctx& ctx, const sdk::OptimizerStep& s) override {
    const msw_ops_api& ops = sgd_ops();
    params_.assign(s.params.size(), msw_sgd_param{});
    for (size_t i = 0; i < s.params.size(); ++i) {
      const sdk::OptimizerParam& p = s.params[i];
      msw_sgd_param& r = params_[i];
      r.struct_size = sizeof(r);
      r.apply_weight_decay = p.apply_weight_decay ? 1 : 0;
      r.param = p.param;
      r.grad = p.grad;
      r.momentum_buffer = p.state(0);
      r.lr_mult = p.lr_mult;
    }
    msw_sgd_step_args a{};
    a.struct_size = sizeof(a);
    a.params = params_.data();
    a.count = params_.size();
    a.param_size = sizeof(msw_sgd_param);
    a.lr = s.lr;
    a.weight_decay = s.weight_decay;
    a.momentum = momentum_;
    a.step = s.step;
    a.grad_scale = s.grad_scale;
    a.found_inf = s.found_inf;
    sdk::check(ops.sgd_step(&ctx, &a));
  }

 private:
  double momentum_ = 0.9;
  std::vector<msw_sgd_param> params_;  // reused: steps are never concurrent on one instance
};

}  // namespace

MEGASWIFT_PLUGIN("sgd", "1.0.0",
                 megaswift::sdk::optimizer_component<Sgd>("sgd", "1.0.0",
                                                          "SGD with momentum and weight decay, as torch.optim.SGD"))
