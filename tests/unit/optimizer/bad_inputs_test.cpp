// Bad calls are refused with a status naming the op, the record and the fix, before anything is written: a state
// whose shape differs from the param's, a tensor that is not F32, a missing state, a CUDA call (no CUDA kernels
// yet), hyperparameters that divide by zero, args or records too short, a malformed device scalar, and bad
// plugin configs.
#include "optimizer_test_support.hpp"

#include <doctest/doctest.h>

#include <string>
#include <vector>

using namespace megaswift::optimizer_test;

namespace {

bool contains(const std::string& s, const std::string& part) { return s.find(part) != std::string::npos; }

std::vector<Param> two_params(bool adam) {
  std::vector<Param> params(2);
  for (auto& p : params) {
    p.shape = {2, 3};
    p.value = {1, 2, 3, 4, 5, 6};
    p.grad = {0.5f, -1, 2, 0, 1, -3};
    p.states.assign(adam ? 2 : 1, std::vector<float>(6, 0.0f));
  }
  return params;
}

// The adamw_step args over `params`, to be tampered with.
struct AdamCall {
  explicit AdamCall(std::vector<Param>& params) {
    for (auto& p : params) {
      msw_adamw_param r{};
      r.struct_size = sizeof(r);
      r.apply_weight_decay = 1;
      r.param = f32(p.value, p.shape);
      r.grad = f32(p.grad, p.shape);
      r.exp_avg = f32(p.states[0], p.shape);
      r.exp_avg_sq = f32(p.states[1], p.shape);
      recs.push_back(r);
    }
    a.struct_size = sizeof(a);
    a.count = recs.size();
    a.param_size = sizeof(msw_adamw_param);
    a.lr = 0.1;
    a.weight_decay = 0.1;
    a.beta1 = 0.9;
    a.beta2 = 0.95;
    a.eps = 1e-8;
    a.step = 1;
  }
  Result run(const msw_exec_ctx& ctx = cpu_ctx()) {
    a.params = recs.data();
    return take(ops().adamw_step(&ctx, &a));
  }
  std::vector<msw_adamw_param> recs;
  msw_adamw_step_args a{};
};

struct SgdCall {
  explicit SgdCall(std::vector<Param>& params) {
    for (auto& p : params) {
      msw_sgd_param r{};
      r.struct_size = sizeof(r);
      r.param = f32(p.value, p.shape);
      r.grad = f32(p.grad, p.shape);
      r.momentum_buffer = f32(p.states[0], p.shape);
      recs.push_back(r);
    }
    a.struct_size = sizeof(a);
    a.count = recs.size();
    a.param_size = sizeof(msw_sgd_param);
    a.lr = 0.1;
    a.momentum = 0.9;
    a.step = 1;
  }
  Result run(const msw_exec_ctx& ctx = cpu_ctx()) {
    a.params = recs.data();
    return take(ops().sgd_step(&ctx, &a));
  }
  std::vector<msw_sgd_param> recs;
  msw_sgd_step_args a{};
};

void check_untouched(const std::vector<Param>& params) {
  for (const auto& p : params) {
    CHECK(p.value == std::vector<float>{1, 2, 3, 4, 5, 6});
    for (const auto& s : p.states) CHECK(s == std::vector<float>(6, 0.0f));
  }
}

}  // namespace

TEST_CASE("a state whose shape differs from the param's is a SHAPE_MISMATCH naming the record, and nothing is written") {
  auto params = two_params(true);
  AdamCall call(params);
  call.recs[1].exp_avg = f32(params[1].states[0], {6});  // same elements, another shape
  const Result r = call.run();
  CHECK(r.code == MSW_STATUS_SHAPE_MISMATCH);
  CHECK(contains(r.message, "ops.adamw_step"));
  CHECK(contains(r.message, "params[1].exp_avg is f32 (6) but the param is f32 (2, 3)"));
  // Every record is checked before any is updated: the valid first record was left alone too.
  check_untouched(params);

  auto sgd_params = two_params(false);
  SgdCall sgd(sgd_params);
  std::vector<float> longer(7, 0.0f);
  sgd.recs[0].momentum_buffer = f32(longer, {7});
  const Result s = sgd.run();
  CHECK(s.code == MSW_STATUS_SHAPE_MISMATCH);
  CHECK(contains(s.message, "params[0].momentum_buffer"));
}

TEST_CASE("a tensor that is not F32 is refused, naming it and the fix") {
  auto params = two_params(true);
  AdamCall call(params);
  std::vector<uint16_t> bf16(6, 0);
  call.recs[0].grad.data = bf16.data();
  call.recs[0].grad.dtype = MSW_DTYPE_BF16;
  const Result r = call.run();
  CHECK(r.code == MSW_STATUS_SHAPE_MISMATCH);
  CHECK(contains(r.message, "params[0].grad is bf16 (2, 3)"));
  CHECK(contains(r.message, "f32"));
  CHECK(contains(r.message, "ops.copy"));

  auto sgd_params = two_params(false);
  SgdCall sgd(sgd_params);
  std::vector<double> f64(6, 0.0);
  sgd.recs[1].param.data = f64.data();
  sgd.recs[1].param.dtype = MSW_DTYPE_F64;
  const Result s = sgd.run();
  CHECK(s.code == MSW_STATUS_SHAPE_MISMATCH);
  CHECK(contains(s.message, "params[1].param is f64"));
}

TEST_CASE("a missing state is refused by the op and by the plugin, naming what is missing") {
  auto params = two_params(true);
  AdamCall call(params);
  call.recs[1].exp_avg_sq = msw_tensor{};
  const Result r = call.run();
  CHECK(r.code == MSW_STATUS_INVALID_ARGUMENT);
  CHECK(contains(r.message, "params[1].exp_avg_sq is missing"));

  // SGD needs its buffer only with momentum: momentum 0 leaves it alone, as torch keeps none.
  auto sgd_params = two_params(false);
  SgdCall sgd(sgd_params);
  sgd.recs[0].momentum_buffer = msw_tensor{};
  CHECK(contains(sgd.run().message, "params[0].momentum_buffer is missing"));
  sgd.a.momentum = 0;
  CHECK(sgd.run().ok());

  // The plugin is given fewer states than it reports.
  PluginOptimizer adam("adam", "{}");
  auto one_state = two_params(true);
  for (auto& p : one_state) p.states.pop_back();
  const Result pr = adam.step(cpu_ctx(), one_state, StepConfig{});
  CHECK(pr.code == MSW_STATUS_INVALID_ARGUMENT);
  CHECK(contains(pr.message, "carries 1 state tensors, the optimizer needs 2"));
}

TEST_CASE("a CUDA call is UNSUPPORTED naming the op and the device, through the op and the plugins") {
  auto params = two_params(true);
  AdamCall call(params);
  msw_exec_ctx cuda = cpu_ctx();
  cuda.device = {MSW_DEVICE_CUDA, 0};
  for (auto& r : call.recs)
    for (msw_tensor* t : {&r.param, &r.grad, &r.exp_avg, &r.exp_avg_sq}) t->device = cuda.device;
  const Result r = call.run(cuda);
  CHECK(r.code == MSW_STATUS_UNSUPPORTED);
  CHECK(contains(r.message, "ops.adamw_step"));
  CHECK(contains(r.message, "CUDA"));

  for (const char* name : {"adam", "sgd"}) {
    INFO("plugin " << name);
    PluginOptimizer opt(name, "{}");
    auto p = two_params(std::string(name) == "adam");
    const Result pr = opt.step(cuda, p, StepConfig{});
    CHECK(pr.code == MSW_STATUS_UNSUPPORTED);
    CHECK(contains(pr.message, std::string(name) == "adam" ? "ops.adamw_step" : "ops.sgd_step"));
    CHECK(contains(pr.message, "CUDA"));
  }
}

TEST_CASE("hyperparameters that would divide by zero and steps before 1 are INVALID_ARGUMENT") {
  auto params = two_params(true);
  AdamCall call(params);
  call.a.step = 0;
  CHECK(contains(call.run().message, "step 0 must be >= 1"));
  call.a.step = 1;
  call.a.beta2 = 1.0;
  const Result r = call.run();
  CHECK(r.code == MSW_STATUS_INVALID_ARGUMENT);
  CHECK(contains(r.message, "beta2"));
  call.a.beta2 = 0.95;
  call.a.eps = -1;
  CHECK(contains(call.run().message, "eps"));
  check_untouched(params);

  auto sgd_params = two_params(false);
  SgdCall sgd(sgd_params);
  sgd.a.momentum = -0.5;
  CHECK(contains(sgd.run().message, "momentum"));
}

TEST_CASE("args or records shorter than their required members are refused, naming the size to set") {
  auto params = two_params(true);
  AdamCall call(params);
  call.a.struct_size = 16;
  Result r = call.run();
  CHECK(r.code == MSW_STATUS_INVALID_ARGUMENT);
  CHECK(contains(r.message, "args->struct_size 16"));
  call.a.struct_size = sizeof(call.a);
  call.a.param_size = 8;
  r = call.run();
  CHECK(contains(r.message, "param_size 8"));
  call.a.param_size = sizeof(msw_adamw_param);
  call.recs[1].struct_size = 12;
  r = call.run();
  CHECK(contains(r.message, "params[1].struct_size 12"));
  call.recs[1].struct_size = sizeof(msw_adamw_param);
  call.a.count = 2;
  call.a.params = nullptr;
  const msw_exec_ctx ctx = cpu_ctx();
  CHECK(contains(take(ops().adamw_step(&ctx, &call.a)).message, "params is NULL"));
}

TEST_CASE("a record without lr_mult (a shorter writer) reads it as 1") {
  auto a = two_params(true), b = two_params(true);
  AdamCall full(a), short_records(b);
  for (auto& r : short_records.recs) r.struct_size = offsetof(msw_adamw_param, lr_mult);
  for (auto& r : short_records.recs) r.lr_mult = 5.0;  // beyond struct_size: must not be read
  REQUIRE(full.run().ok());
  REQUIRE(short_records.run().ok());
  CHECK(a[0].value == b[0].value);
  CHECK(a[0].value != std::vector<float>{1, 2, 3, 4, 5, 6});
}

TEST_CASE("a found_inf or grad_scale that is not a one-element float scalar is a SHAPE_MISMATCH") {
  auto params = two_params(true);
  AdamCall call(params);
  std::vector<float> two = {0, 0};
  call.a.found_inf = f32(two, {2});
  Result r = call.run();
  CHECK(r.code == MSW_STATUS_SHAPE_MISMATCH);
  CHECK(contains(r.message, "found_inf"));
  call.a.found_inf = msw_tensor{};
  std::vector<uint16_t> half(1, 0);
  call.a.grad_scale = f32(two, {1});
  call.a.grad_scale.data = half.data();
  call.a.grad_scale.dtype = MSW_DTYPE_F16;
  r = call.run();
  CHECK(r.code == MSW_STATUS_SHAPE_MISMATCH);
  CHECK(contains(r.message, "grad_scale"));
  check_untouched(params);
}

TEST_CASE("a param that is not contiguous is refused: updates happen in place, without staging") {
  auto params = two_params(true);
  AdamCall call(params);
  call.recs[0].param.shape[1] = 2;  // (2, 2) inside rows of 3: strides (3, 1)
  call.recs[0].param.strides[0] = 3;
  const Result r = call.run();
  CHECK(r.code == MSW_STATUS_INVALID_ARGUMENT);
  CHECK(contains(r.message, "params[0].param"));
  CHECK(contains(r.message, "not contiguous"));
}

TEST_CASE("bad plugin configs are INVALID_ARGUMENT naming the key") {
  const auto& reg = registry();
  auto create = [&](const char* name, const char* config) {
    auto vt = megaswift::host::PluginRegistry::vtable_copy<msw_optimizer_vtable>(reg.require(MSW_KIND_OPTIMIZER, name));
    void* self = nullptr;
    const Result r = take(vt.create(config, &self));
    if (self) vt.destroy(self);
    return r;
  };
  Result r = create("adam", R"({"adam_beta1": "0.9"})");
  CHECK(r.code == MSW_STATUS_INVALID_ARGUMENT);
  CHECK(contains(r.message, "adam_beta1"));
  r = create("adam", R"({"adam_beta2": 1.0})");
  CHECK(r.code == MSW_STATUS_INVALID_ARGUMENT);
  CHECK(contains(r.message, "adam_beta2"));
  CHECK(create("adam", "[1, 2]").code == MSW_STATUS_INVALID_ARGUMENT);
  CHECK(create("adam", "{not json").code == MSW_STATUS_INVALID_ARGUMENT);
  r = create("sgd", R"({"sgd_momentum": -1})");
  CHECK(r.code == MSW_STATUS_INVALID_ARGUMENT);
  CHECK(contains(r.message, "sgd_momentum"));
  // None (null) and absent keys keep the defaults.
  CHECK(create("sgd", R"({"sgd_momentum": null, "lr": 0.1})").ok());
  CHECK(create("adam", "").ok());
}
