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
#include <megaswift/sdk/status.hpp>

#include <nlohmann/json.hpp>

#include <cmath>
#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

namespace {

namespace sdk = megaswift::sdk;

// A number of the parsed-arguments JSON; a missing key or null keeps the default (the CLI's default).
double config_number(const nlohmann::json& config, const char* key, double fallback) {
  const auto it = config.find(key);
  if (it == config.end() || it->is_null()) return fallback;
  if (!it->is_number())
    throw sdk::Error(MSW_STATUS_INVALID_ARGUMENT, std::string("sgd: '") + key + "' must be a number, got " + it->dump());
  return it->get<double>();
}

nlohmann::json parse_config(std::string_view text) {
  nlohmann::json j = nlohmann::json::parse(text.empty() ? std::string_view("{}") : text, nullptr, false);
  if (j.is_discarded() || !j.is_object())
    throw sdk::Error(MSW_STATUS_INVALID_ARGUMENT, "sgd: the config must be a JSON object of the parsed arguments "
                                                  "(sgd_momentum), got: " + std::string(text.substr(0, 200)));
  return j;
}

// The host's ops table, which must have sgd_step: a host older than ABI 2.2 is refused by the plugin entry
// already (the target minor), but the table's own struct_size is what says the entry is there.
const msw_ops_api& sgd_ops() {
  const msw_host_api& h = sdk::host();
  if (!MSW_HOST_HAS(ops) || !h.ops)
    throw sdk::Error(MSW_STATUS_UNSUPPORTED, "sgd: the host provides no ops table (msw_host_api.ops is NULL); the "
                                             "optimizer runs on the host's sgd_step op");
  if (h.ops->struct_size <= offsetof(msw_ops_api, sgd_step) || !h.ops->sgd_step)
    throw sdk::Error(MSW_STATUS_UNSUPPORTED,
                     "sgd: the host's ops table (struct_size " + std::to_string(h.ops->struct_size) +
                         ") has no sgd_step, added in Megaswift ABI 2.2: run this plugin with a host of ABI 2.2 or "
                         "newer");
  return *h.ops;
}

class Sgd final : public sdk::Optimizer {
 public:
  explicit Sgd(std::string_view config_text) {
    momentum_ = config_number(parse_config(config_text), "sgd_momentum", 0.9);
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
