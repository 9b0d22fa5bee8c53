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
    throw sdk::Error(MSW_STATUS_INVALID_ARGUMENT, std::string("adam: '") + key + "' must be a number, got " + it->dump());
  return it->get<double>();
}

nlohmann::json parse_config(std::string_view text) {
  nlohmann::json j = nlohmann::json::parse(text.empty() ? std::string_view("{}") : text, nullptr, false);
  if (j.is_discarded() || !j.is_object())
    throw sdk::Error(MSW_STATUS_INVALID_ARGUMENT, "adam: the config must be a JSON object of the parsed arguments "
                                                  "(adam_beta1, adam_beta2, adam_eps), got: " + std::string(text.substr(0, 200)));
  return j;
}

// The host's ops table, which must have adamw_step: a host older than ABI 2.2 is refused by the plugin entry
// already (the target minor), but the table's own struct_size is what says the entry is there.
const msw_ops_api& adamw_ops() {
  const msw_host_api& h = sdk::host();
  if (!MSW_HOST_HAS(ops) || !h.ops)
    throw sdk::Error(MSW_STATUS_UNSUPPORTED, "adam: the host provides no ops table (msw_host_api.ops is NULL); the "
                                             "optimizer runs on the host's adamw_step op");
  if (h.ops->struct_size <= offsetof(msw_ops_api, adamw_step) || !h.ops->adamw_step)
    throw sdk::Error(MSW_STATUS_UNSUPPORTED,
                     "adam: the host's ops table (struct_size " + std::to_string(h.ops->struct_size) +
                         ") has no adamw_step, added in Megaswift ABI 2.2: run this plugin with a host of ABI 2.2 or "
                         "newer");
  return *h.ops;
}

class Adam final : public sdk::Optimizer {
 public:
  explicit Adam(std::string_view config_text) {
    const nlohmann::json config = parse_config(config_text);
    beta1_ = config_number(config, "adam_beta1", 0.9);
    beta2_ = config_number(config, "adam_beta2", 0.95);
    eps_ = config_number(config, "adam_eps", 1e-8);
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
