// A few AdamW steps of a model runner on fixed batches, as the training engine takes them (zero the gradients,
// forward and backward of the token mean, the global gradient norm, clipping at 1.0, one update): the losses and
// gradient norms per step. Shared by the precision and device tests, which compare one run against another.
#pragma once

#include "host/model/model_runner.hpp"
#include "host/plugin_host/registry.hpp"
#include "host/training/optimizer_driver.hpp"

#include <nlohmann/json.hpp>

#include <vector>

namespace megaswift::testing {

struct StepLog {
  std::vector<double> losses, grad_norms;
};

inline StepLog train_steps(const megaswift::host::PluginRegistry& registry, megaswift::host::ModelRunner& runner,
                           const std::vector<megaswift::host::Batch>& batches, int steps, double lr = 1e-3) {
  const nlohmann::json config = {{"adam_beta1", 0.9}, {"adam_beta2", 0.95}, {"adam_eps", 1e-8}};
  megaswift::training::OptimizerDriver optimizer(registry.require(MSW_KIND_OPTIMIZER, "adam"), config, runner);
  StepLog log;
  for (int s = 0; s < steps; ++s) {
    runner.zero_grads();
    const megaswift::host::ForwardResult r = runner.forward_backward(batches[static_cast<size_t>(s) % batches.size()]);
    const double norm = optimizer.grad_norm();
    optimizer.step(norm, lr, 0.01, 1.0);
    log.losses.push_back(r.loss());
    log.grad_norms.push_back(norm);
  }
  return log;
}

}  // namespace megaswift::testing
