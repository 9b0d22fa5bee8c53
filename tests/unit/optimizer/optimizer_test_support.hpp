// Shared by the optimizer suites: CPU tensors over vectors, status results, the host with its ops table
// installed, the registry of the build tree's plugins, and the parameter buffers of one optimizer run, which
// can be stepped through the ops table (adamw_step / sgd_step records) or a plugin (msw_optimizer_param).
#pragma once

#include "host/plugin_host/registry.hpp"

#include <megaswift/c/ops.h>
#include <megaswift/c/optimizer.h>

#include <cstdint>
#include <string>
#include <vector>

namespace megaswift::optimizer_test {

msw_tensor f32(std::vector<float>& v, std::vector<int64_t> shape);
msw_tensor scalar_f32(float* v);
msw_exec_ctx cpu_ctx(int threads = 1);

struct Result {
  int32_t code = MSW_STATUS_OK;
  std::string message;
  bool ok() const { return code == MSW_STATUS_OK; }
};
Result take(msw_status* s);  // frees the status

// The host table with the host's ops table installed (as the CLI does at start-up).
const msw_host_api& host();
const msw_ops_api& ops();
// A registry over <build>/lib/megaswift/plugins (the first-party plugins).
const host::PluginRegistry& registry();

// One parameter's buffers: the tensors point into the vectors, so a run must not be copied once stepped.
struct Param {
  std::vector<int64_t> shape;
  int32_t apply_weight_decay = 1;
  double lr_mult = 1.0;
  std::vector<float> value;
  std::vector<float> grad;
  std::vector<std::vector<float>> states;  // adam: exp_avg, exp_avg_sq; sgd: momentum_buffer
};

// The hyperparameters of a step, and the optional device scalars.
struct StepConfig {
  bool adam = true;
  double lr = 0.01;
  double weight_decay = 0.1;
  double beta1 = 0.9, beta2 = 0.95, eps = 1e-8;
  double momentum = 0.9;
  int64_t step = 1;
  bool has_grad_scale = false;
  float grad_scale = 1.0f;
  bool has_found_inf = false;
  float found_inf = 0.0f;
};

// One call of adamw_step or sgd_step over every parameter.
Result ops_step(const msw_exec_ctx& ctx, std::vector<Param>& params, const StepConfig& c);

// An optimizer plugin instance from the registry.
struct PluginOptimizer {
  PluginOptimizer(const char* name, const std::string& config);
  ~PluginOptimizer();
  PluginOptimizer(const PluginOptimizer&) = delete;
  PluginOptimizer& operator=(const PluginOptimizer&) = delete;
  // One vtable step over every parameter (lr, weight_decay, step and the scalars from c; the betas,
  // eps and momentum come from the plugin's config).
  Result step(const msw_exec_ctx& ctx, std::vector<Param>& params, const StepConfig& c);

  msw_optimizer_vtable vt{};
  void* self = nullptr;
};

// Relative closeness for float32 results compared with torch: |a - b| <= rel * max(|b|, floor).
struct Mismatch {
  size_t index = 0;
  double got = 0, want = 0;
  double rel = 0;  // the worst |a - b| / max(|b|, floor)
};
Mismatch worst(const std::vector<float>& got, const std::vector<double>& want, double floor);

}  // namespace megaswift::optimizer_test
