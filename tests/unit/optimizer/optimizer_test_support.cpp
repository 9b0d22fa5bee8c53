#include "optimizer_test_support.hpp"

#include "host/core/host_api.hpp"
#include "host/core/status.hpp"
#include "host/ops/ops_api.hpp"
#include "test_paths.hpp"

#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>

namespace megaswift::optimizer_test {

msw_tensor f32(std::vector<float>& v, std::vector<int64_t> shape) {
  msw_tensor t{};
  t.data = v.data();
  t.device = {MSW_DEVICE_CPU, 0};
  t.dtype = MSW_DTYPE_F32;
  msw_tensor_set_dense_shape(&t, static_cast<int32_t>(shape.size()), shape.data());
  return t;
}

msw_tensor scalar_f32(float* v) {
  msw_tensor t{};
  t.data = v;
  t.device = {MSW_DEVICE_CPU, 0};
  t.dtype = MSW_DTYPE_F32;
  msw_tensor_set_dense_shape(&t, 0, nullptr);
  return t;
}

msw_exec_ctx cpu_ctx(int threads) {
  msw_exec_ctx c{};
  c.struct_size = sizeof(c);
  c.num_threads = threads;
  c.device = {MSW_DEVICE_CPU, 0};
  return c;
}

Result take(msw_status* s) {
  if (!s) return {};
  Result r{s->code, s->message};
  host::status_free(s);
  return r;
}

const msw_host_api& host() {
  if (!host::host_api().ops) host::install_ops(&host::ops_api());
  return host::host_api();
}

const msw_ops_api& ops() { return *host().ops; }

const host::PluginRegistry& registry() {
  static const host::PluginRegistry* r = [] {
    auto* reg = new host::PluginRegistry(host());
    reg->load_library(testing::plugin_dir() / "libmegaswift_optimizer_adam.so");
    reg->load_library(testing::plugin_dir() / "libmegaswift_optimizer_sgd.so");
    return reg;
  }();
  return *r;
}

namespace {
template <class A>
void set_scalars(A& a, StepConfig& c) {
  if (c.has_grad_scale) a.grad_scale = scalar_f32(&c.grad_scale);
  if (c.has_found_inf) a.found_inf = scalar_f32(&c.found_inf);
}
}  // namespace

Result ops_step(const msw_exec_ctx& ctx, std::vector<Param>& params, const StepConfig& config) {
  StepConfig c = config;  // the scalars' storage for the call
  if (c.adam) {
    std::vector<msw_adamw_param> recs(params.size());
    for (size_t i = 0; i < params.size(); ++i) {
      Param& p = params[i];
      msw_adamw_param& r = recs[i];
      r.struct_size = sizeof(r);
      r.apply_weight_decay = p.apply_weight_decay;
      r.param = f32(p.value, p.shape);
      r.grad = f32(p.grad, p.shape);
      r.exp_avg = f32(p.states.at(0), p.shape);
      r.exp_avg_sq = f32(p.states.at(1), p.shape);
      r.lr_mult = p.lr_mult;
    }
    msw_adamw_step_args a{};
    a.struct_size = sizeof(a);
    a.params = recs.data();
    a.count = recs.size();
    a.param_size = sizeof(msw_adamw_param);
    a.lr = c.lr;
    a.weight_decay = c.weight_decay;
    a.beta1 = c.beta1;
    a.beta2 = c.beta2;
    a.eps = c.eps;
    a.step = c.step;
    set_scalars(a, c);
    return take(ops().adamw_step(&ctx, &a));
  }
  std::vector<msw_sgd_param> recs(params.size());
  for (size_t i = 0; i < params.size(); ++i) {
    Param& p = params[i];
    msw_sgd_param& r = recs[i];
    r.struct_size = sizeof(r);
    r.apply_weight_decay = p.apply_weight_decay;
    r.param = f32(p.value, p.shape);
    r.grad = f32(p.grad, p.shape);
    r.momentum_buffer = f32(p.states.at(0), p.shape);
    r.lr_mult = p.lr_mult;
  }
  msw_sgd_step_args a{};
  a.struct_size = sizeof(a);
  a.params = recs.data();
  a.count = recs.size();
  a.param_size = sizeof(msw_sgd_param);
  a.lr = c.lr;
  a.weight_decay = c.weight_decay;
  a.momentum = c.momentum;
  a.step = c.step;
  set_scalars(a, c);
  return take(ops().sgd_step(&ctx, &a));
}

PluginOptimizer::PluginOptimizer(const char* name, const std::string& config)
    : vt(host::PluginRegistry::vtable_copy<msw_optimizer_vtable>(registry().require(MSW_KIND_OPTIMIZER, name))) {
  const Result r = take(vt.create(config.c_str(), &self));
  REQUIRE_MESSAGE(r.ok(), r.message);
}

PluginOptimizer::~PluginOptimizer() {
  if (self) vt.destroy(self);
}

Result PluginOptimizer::step(const msw_exec_ctx& ctx, std::vector<Param>& params, const StepConfig& config) {
  StepConfig c = config;
  std::vector<std::vector<msw_tensor>> states(params.size());
  std::vector<msw_optimizer_param> recs(params.size());
  for (size_t i = 0; i < params.size(); ++i) {
    Param& p = params[i];
    for (auto& s : p.states) states[i].push_back(f32(s, p.shape));
    msw_optimizer_param& r = recs[i];
    r.struct_size = sizeof(r);
    r.apply_weight_decay = p.apply_weight_decay;
    r.param = f32(p.value, p.shape);
    r.grad = f32(p.grad, p.shape);
    r.states = states[i].data();
    r.state_count = states[i].size();
    r.lr_mult = p.lr_mult;
  }
  msw_optimizer_step_args a{};
  a.struct_size = sizeof(a);
  a.step = c.step;
  a.lr = c.lr;
  a.weight_decay = c.weight_decay;
  a.params = recs.data();
  a.count = recs.size();
  a.param_size = sizeof(msw_optimizer_param);
  set_scalars(a, c);
  return take(vt.step(self, &ctx, &a));
}

Mismatch worst(const std::vector<float>& got, const std::vector<double>& want, double floor) {
  REQUIRE(got.size() == want.size());
  Mismatch m;
  for (size_t i = 0; i < got.size(); ++i) {
    const double diff = std::fabs(got[i] - want[i]);
    const double rel = diff == 0 ? 0.0 : diff / std::max(std::fabs(want[i]), floor);
    if (!(rel <= m.rel)) m = {i, got[i], want[i], rel};  // NaN counts as worse than anything
  }
  return m;
}

}  // namespace megaswift::optimizer_test
