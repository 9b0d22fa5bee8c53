// The Lion optimizer (sign of an interpolated momentum, decoupled weight decay) as a Megaswift
// optimizer plugin. Usage: megatron sft --optimizer lion --plugin_path <dir of this library> ...
//
//   c = beta1 * m + (1 - beta1) * g
//   w = w - lr * (sign(c) + weight_decay * w)
//   m = beta2 * m + (1 - beta2) * g
#include <megaswift/sdk/log.hpp>
#include <megaswift/sdk/optimizer.hpp>
#include <megaswift/sdk/tensor.hpp>

#include <cmath>
#include <string>
#include <string_view>

namespace {

// Reads a number from the flat config JSON ({"lion_beta1": 0.9, ...}) without a JSON library: the
// plugin keeps to the SDK's dependencies only.
double config_number(std::string_view json, std::string_view key, double fallback) {
  std::string quoted = "\"" + std::string(key) + "\"";
  size_t at = json.find(quoted);
  if (at == std::string_view::npos) return fallback;
  at = json.find(':', at + quoted.size());
  if (at == std::string_view::npos) return fallback;
  std::string rest(json.substr(at + 1, 64));
  try {
    return std::stod(rest);
  } catch (const std::exception&) {
    throw megaswift::sdk::Error(MSW_STATUS_INVALID_ARGUMENT, "lion: '" + std::string(key) + "' must be a number");
  }
}

class Lion final : public megaswift::sdk::Optimizer {
 public:
  explicit Lion(std::string_view config)
      : beta1_(config_number(config, "lion_beta1", 0.9)), beta2_(config_number(config, "lion_beta2", 0.99)) {
    if (!(beta1_ >= 0 && beta1_ < 1 && beta2_ >= 0 && beta2_ < 1))
      throw megaswift::sdk::Error(MSW_STATUS_INVALID_ARGUMENT, "lion: lion_beta1 and lion_beta2 must be in [0, 1)");
    megaswift::sdk::log_info("lion", "beta1=" + std::to_string(beta1_) + " beta2=" + std::to_string(beta2_));
  }

  int32_t state_count() const override { return 1; }
  const char* state_name(int32_t index) const override { return index == 0 ? "exp_avg" : nullptr; }

  // CPU, fp32. found_inf (fp16 loss scaling) skips the step; grad_scale unscales the gradients first;
  // lr_mult scales the learning rate per parameter.
  void step(const msw_exec_ctx&, const megaswift::sdk::OptimizerStep& s) override {
    if (megaswift::sdk::cpu_step_skipped(s)) return;
    const float grad_mult = static_cast<float>(megaswift::sdk::cpu_grad_multiplier(s));
    for (const auto& p : s.params) {
      megaswift::sdk::require_cpu_contiguous(p.param, "lion param");
      megaswift::sdk::require_cpu_contiguous(p.grad, "lion grad");
      megaswift::sdk::require_cpu_contiguous(p.state(0), "lion exp_avg");
      const int64_t n = msw_tensor_numel(&p.param);
      if (msw_tensor_numel(&p.grad) != n || msw_tensor_numel(&p.state(0)) != n)
        throw megaswift::sdk::Error(MSW_STATUS_SHAPE_MISMATCH, "lion: param " + megaswift::sdk::shape_string(p.param) +
                                                                   ", grad " + megaswift::sdk::shape_string(p.grad) +
                                                                   " and exp_avg must have the same size");
      float* w = megaswift::sdk::data_as<float>(p.param, MSW_DTYPE_F32, "lion param");
      const float* g = megaswift::sdk::data_as<float>(p.grad, MSW_DTYPE_F32, "lion grad");
      float* m = megaswift::sdk::data_as<float>(p.state(0), MSW_DTYPE_F32, "lion exp_avg");
      const float lr = static_cast<float>(s.lr * p.lr_mult);
      const float decay = p.apply_weight_decay ? static_cast<float>(s.weight_decay) : 0.0f;
      for (int64_t j = 0; j < n; ++j) {
        const float gj = grad_mult * g[j];
        float c = static_cast<float>(beta1_) * m[j] + static_cast<float>(1 - beta1_) * gj;
        float sign = static_cast<float>((c > 0) - (c < 0));
        w[j] -= lr * (sign + decay * w[j]);
        m[j] = static_cast<float>(beta2_) * m[j] + static_cast<float>(1 - beta2_) * gj;
      }
    }
  }

 private:
  double beta1_;
  double beta2_;
};

}  // namespace

MEGASWIFT_PLUGIN("lion", "1.0.0",
                 megaswift::sdk::optimizer_component<Lion>("lion", "1.0.0", "Lion optimizer (example plugin)"))
