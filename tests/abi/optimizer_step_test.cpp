// Optimizer steps through the registry: the C plugin (c_sgd, reading the structs by hand) and the example
// Lion plugin (the C++ layer) update parameters as their formulas say, honour found_inf and grad_scale
// (device scalars, here on the CPU) and lr_mult, read records of the caller's element size, and treat
// members past the args' struct_size as absent.
#include "abi_test_support.hpp"

#include "host/core/host_api.hpp"
#include "host/core/status.hpp"
#include "host/plugin_host/registry.hpp"

#include <megaswift/c/optimizer.h>

#include <doctest/doctest.h>

#include <cmath>
#include <cstring>
#include <string>
#include <vector>

using megaswift::abi_test::cpu_f32;
using megaswift::abi_test::cpu_tensor;
using megaswift::abi_test::kPluginDir;
using megaswift::abi_test::take_message;
using megaswift::host::PluginRegistry;

namespace {

const PluginRegistry& registry() {
  static const PluginRegistry* r = [] {
    auto* reg = new PluginRegistry(megaswift::host::host_api());
    reg->load_library(kPluginDir / "libmegaswift_optimizer_c_sgd.so");
    reg->load_library(kPluginDir / "libmegaswift_optimizer_lion.so");
    return reg;
  }();
  return *r;
}

// One optimizer instance and the buffers of one parameter of three elements.
struct Run {
  explicit Run(const char* name, const char* config = "{}")
      : vt(PluginRegistry::vtable_copy<msw_optimizer_vtable>(registry().require(MSW_KIND_OPTIMIZER, name))) {
    REQUIRE(vt.create(config, &self) == nullptr);
    ctx.struct_size = sizeof(ctx);
    ctx.num_threads = 1;
    ctx.device = {MSW_DEVICE_CPU, 0};
    const int32_t n = vt.state_count(self);
    REQUIRE(n >= 0);
    states.resize(static_cast<size_t>(n));
    state_data.assign(static_cast<size_t>(n), std::vector<float>(3, 0.0f));
    for (int32_t i = 0; i < n; ++i) states[i] = cpu_f32(state_data[i].data(), 3);
    p.struct_size = sizeof(p);
    p.apply_weight_decay = 1;
    p.param = cpu_f32(w, 3);
    p.grad = cpu_f32(g, 3);
    p.states = states.data();
    p.state_count = states.size();
    args.struct_size = sizeof(args);
    args.step = 1;
    args.lr = 0.1;
    args.weight_decay = 0.5;
    args.params = &p;
    args.count = 1;
    args.param_size = sizeof(p);
  }
  ~Run() { vt.destroy(self); }
  msw_status* step() { return vt.step(self, &ctx, &args); }

  msw_optimizer_vtable vt;
  void* self = nullptr;
  msw_exec_ctx ctx{};
  float w[3] = {1.0f, 2.0f, -4.0f};
  float g[3] = {0.5f, -1.0f, 2.0f};
  std::vector<std::vector<float>> state_data;
  std::vector<msw_tensor> states;
  msw_optimizer_param p{};
  msw_optimizer_step_args args{};
};

// SGD with decoupled decay: w - lr*wd*w - lr*scale*g.
float sgd(float w, float g, double lr, double wd, double scale = 1.0) {
  return static_cast<float>(w - lr * wd * w - lr * scale * g);
}

}  // namespace

TEST_CASE("the C plugin's SGD step updates the parameters through the host") {
  Run r("c_sgd");
  REQUIRE(r.step() == nullptr);
  CHECK(r.w[0] == doctest::Approx(sgd(1.0f, 0.5f, 0.1, 0.5)));
  CHECK(r.w[1] == doctest::Approx(sgd(2.0f, -1.0f, 0.1, 0.5)));
  CHECK(r.w[2] == doctest::Approx(sgd(-4.0f, 2.0f, 0.1, 0.5)));
}

TEST_CASE("found_inf set makes the step change nothing, in C and with the C++ layer") {
  for (const char* name : {"c_sgd", "lion"}) {
    INFO(name);
    Run r(name);
    float inf_flag = 1.0f;
    r.args.found_inf = cpu_tensor(&inf_flag, MSW_DTYPE_F32, {});
    REQUIRE(r.step() == nullptr);
    CHECK(r.w[0] == 1.0f);
    CHECK(r.w[1] == 2.0f);
    CHECK(r.w[2] == -4.0f);
    for (const auto& s : r.state_data) CHECK(s[0] == 0.0f);
    inf_flag = 0.0f;  // not set: the step runs
    REQUIRE(r.step() == nullptr);
    CHECK(r.w[0] != 1.0f);
  }
}

TEST_CASE("grad_scale multiplies the gradients first and lr_mult scales the learning rate") {
  Run r("c_sgd");
  float scale = 0.25f;
  r.args.grad_scale = cpu_tensor(&scale, MSW_DTYPE_F32, {});
  r.p.lr_mult = 2.0;
  REQUIRE(r.step() == nullptr);
  CHECK(r.w[0] == doctest::Approx(sgd(1.0f, 0.5f, 0.2, 0.5, 0.25)));
  CHECK(r.w[2] == doctest::Approx(sgd(-4.0f, 2.0f, 0.2, 0.5, 0.25)));
}

TEST_CASE("the example Lion plugin takes the sign of the interpolated momentum and updates its state") {
  Run r("lion", R"({"lion_beta1": 0.9, "lion_beta2": 0.99})");
  REQUIRE(r.states.size() == 1);
  r.state_data[0] = {0.2f, 0.2f, -1.0f};
  float scale = 2.0f;  // g becomes (1, -2, 4)
  r.args.grad_scale = cpu_tensor(&scale, MSW_DTYPE_F32, {});
  REQUIRE(r.step() == nullptr);
  const float g[3] = {1.0f, -2.0f, 4.0f};
  const float m0[3] = {0.2f, 0.2f, -1.0f};
  const float w0[3] = {1.0f, 2.0f, -4.0f};
  for (int j = 0; j < 3; ++j) {
    const float c = 0.9f * m0[j] + 0.1f * g[j];
    const float sign = static_cast<float>((c > 0) - (c < 0));
    CHECK(r.w[j] == doctest::Approx(w0[j] - 0.1f * (sign + 0.5f * w0[j])));
    CHECK(r.state_data[0][j] == doctest::Approx(0.99f * m0[j] + 0.01f * g[j]));
  }
  // c = 0.9*0.2 + 0.1*(-2) = -0.02: the sign flips against the momentum, which the test pins.
  CHECK(r.w[1] == doctest::Approx(2.0f - 0.1f * (-1.0f + 1.0f)));
}

TEST_CASE("a parameter without the states the optimizer needs is refused naming the parameter") {
  Run r("lion");
  r.p.states = nullptr;
  r.p.state_count = 0;
  msw_status* s = r.step();
  REQUIRE(s != nullptr);
  CHECK(s->code == MSW_STATUS_INVALID_ARGUMENT);
  CHECK(take_message(s).find("parameter 0 carries 0 state tensors, the optimizer needs 1") != std::string::npos);
}

TEST_CASE("members past the args' struct_size are absent whatever the memory holds") {
  for (const char* name : {"c_sgd", "lion"}) {
    INFO(name);
    Run r(name);
    float inf_flag = 1.0f, scale = 100.0f;
    r.args.found_inf = cpu_tensor(&inf_flag, MSW_DTYPE_F32, {});
    r.args.grad_scale = cpu_tensor(&scale, MSW_DTYPE_F32, {});
    // A caller whose struct ends before grad_scale: found_inf and grad_scale are not part of the call.
    r.args.struct_size = static_cast<uint32_t>(offsetof(msw_optimizer_step_args, grad_scale));
    REQUIRE(r.step() == nullptr);
    if (std::string(name) == "c_sgd") {
      CHECK(r.w[0] == doctest::Approx(sgd(1.0f, 0.5f, 0.1, 0.5)));
    } else {
      CHECK(r.w[0] == doctest::Approx(1.0f - 0.1f * (1.0f + 0.5f)));  // sign(0.1 * 0.5) = 1
    }
  }
}

TEST_CASE("parameter records are walked by the caller's param_size and read through their struct_size") {
  // A newer host's records: longer than this SDK's, with unknown bytes after each.
  struct Longer {
    msw_optimizer_param p;
    double future_member;
  };
  for (const char* name : {"c_sgd", "lion"}) {
    INFO(name);
    Run r(name);
    Longer recs[2]{};
    float w2[3] = {1.0f, 1.0f, 1.0f};
    float g2[3] = {1.0f, 1.0f, 1.0f};
    recs[0].p = r.p;
    recs[0].future_member = 1e300;
    recs[1].p = r.p;
    recs[1].p.param = cpu_f32(w2, 3);
    recs[1].p.grad = cpu_f32(g2, 3);
    recs[1].future_member = -1e300;
    r.args.params = &recs[0].p;
    r.args.count = 2;
    r.args.param_size = sizeof(Longer);
    REQUIRE(r.step() == nullptr);
    CHECK(r.w[0] != 1.0f);
    CHECK(w2[0] != 1.0f);
    CHECK(w2[0] == w2[2]);

    // A record whose own struct_size stops before lr_mult: lr_mult reads as absent (1), not the 3 stored there.
    Run r2(name);
    r2.p.lr_mult = 3.0;
    r2.p.struct_size = static_cast<uint32_t>(offsetof(msw_optimizer_param, lr_mult));
    REQUIRE(r2.step() == nullptr);
    Run r3(name);
    REQUIRE(r3.step() == nullptr);
    CHECK(r2.w[0] == r3.w[0]);
  }
}
