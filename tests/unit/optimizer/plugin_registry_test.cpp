// The adam and sgd plugins load through the registry from the build tree as the engine finds them
// (registry.find(MSW_KIND_OPTIMIZER, name)), target ABI 2.2, report Megatron's state names, and refuse an older
// host clearly: a host of ABI 2.1 at load time, and an ops table without the 2.2 entries at create time.
#include "optimizer_test_support.hpp"

#include "host/core/host_api.hpp"
#include "host/core/status.hpp"
#include "host/ops/ops_api.hpp"
#include "scratch_dir.hpp"
#include "test_paths.hpp"

#include <doctest/doctest.h>

#include <filesystem>
#include <string>

using namespace megaswift::optimizer_test;
using megaswift::host::PluginRegistry;
namespace fs = std::filesystem;

namespace {

bool contains(const std::string& s, const std::string& part) { return s.find(part) != std::string::npos; }

// A copy of the plugin library in its own folder: a separate dlopen instance, so the host table it is given
// here does not replace the one the other tests' instance keeps.
fs::path private_copy(const char* file, const std::string& folder) {
  const fs::path dir = megaswift::testing::scratch_dir("megaswift_optimizer_" + folder);
  fs::create_directories(dir);
  fs::copy_file(megaswift::testing::plugin_dir() / file, dir / file, fs::copy_options::overwrite_existing);
  return dir / file;
}

}  // namespace

TEST_CASE("adam and sgd are found by kind and name and report Megatron's state names") {
  const PluginRegistry& reg = registry();
  const megaswift::host::LoadedComponent* adam = reg.find(MSW_KIND_OPTIMIZER, "adam");
  const megaswift::host::LoadedComponent* sgd = reg.find(MSW_KIND_OPTIMIZER, "sgd");
  REQUIRE(adam != nullptr);
  REQUIRE(sgd != nullptr);
  for (const auto* c : {adam, sgd}) {
    CHECK(c->abi_major == MSW_ABI_MAJOR);
    CHECK(c->abi_minor == MSW_ABI_MINOR);
    CHECK(c->target_minor == 2);
  }

  PluginOptimizer a("adam", "{}");
  CHECK(a.vt.state_count(a.self) == 2);
  CHECK(std::string(a.vt.state_name(a.self, 0)) == "exp_avg");
  CHECK(std::string(a.vt.state_name(a.self, 1)) == "exp_avg_sq");
  CHECK(a.vt.state_name(a.self, 2) == nullptr);

  PluginOptimizer s("sgd", "{}");
  CHECK(s.vt.state_count(s.self) == 1);
  CHECK(std::string(s.vt.state_name(s.self, 0)) == "momentum_buffer");
  CHECK(s.vt.state_name(s.self, 1) == nullptr);
}

TEST_CASE("the plugins' defaults are the CLI's: adam betas 0.9/0.95, eps 1e-8; sgd momentum 0.9") {
  // One step with the config {} equals one through the op with those numbers, bit for bit.
  for (bool adam : {true, false}) {
    INFO("optimizer " << (adam ? "adam" : "sgd"));
    std::vector<Param> by_plugin(1), by_op(1);
    for (auto* v : {&by_plugin, &by_op}) {
      Param& p = (*v)[0];
      p.shape = {4};
      p.value = {1.0f, -2.0f, 0.5f, 3.0f};
      p.grad = {0.25f, 0.5f, -1.0f, 1e-3f};
      p.states.assign(adam ? 2 : 1, std::vector<float>(4, 0.0f));
    }
    StepConfig c;
    c.adam = adam;
    c.beta1 = 0.9;
    c.beta2 = 0.95;
    c.eps = 1e-8;
    c.momentum = 0.9;
    PluginOptimizer opt(adam ? "adam" : "sgd", "{}");
    for (int64_t step = 1; step <= 2; ++step) {
      c.step = step;
      REQUIRE(opt.step(cpu_ctx(), by_plugin, c).ok());
      REQUIRE(ops_step(cpu_ctx(), by_op, c).ok());
    }
    CHECK(by_plugin[0].value == by_op[0].value);
    CHECK(by_plugin[0].states == by_op[0].states);
  }
}

TEST_CASE("a host of ABI 2.1 is refused at load, naming both versions") {
  msw_host_api older = host();
  older.abi_minor = 1;
  PluginRegistry reg(older);
  for (const char* file : {"libmegaswift_optimizer_adam.so", "libmegaswift_optimizer_sgd.so"}) {
    INFO("library " << file);
    std::string error;
    try {
      reg.load_library(megaswift::testing::plugin_dir() / file);
    } catch (const megaswift::host::HostError& e) {
      error = e.what();
    }
    CHECK(contains(error, "targets Megaswift ABI 2.2"));
    CHECK(contains(error, "ABI 2.1"));
  }
}

TEST_CASE("an ops table without adamw_step and sgd_step (ABI 2.1's) is refused when the optimizer is created") {
  // A 2.2 host whose ops table ends where 2.1's did.
  static msw_ops_api old_ops = [] {
    msw_ops_api t = megaswift::host::ops_api();
    t.struct_size = static_cast<uint32_t>(offsetof(msw_ops_api, adamw_step));
    return t;
  }();
  static msw_host_api h = [] {
    msw_host_api t = host();
    t.ops = &old_ops;
    return t;
  }();
  PluginRegistry reg(h);
  reg.load_library(private_copy("libmegaswift_optimizer_adam.so", "old_ops"));
  reg.load_library(private_copy("libmegaswift_optimizer_sgd.so", "old_ops"));
  for (const char* name : {"adam", "sgd"}) {
    INFO("plugin " << name);
    auto vt = PluginRegistry::vtable_copy<msw_optimizer_vtable>(reg.require(MSW_KIND_OPTIMIZER, name));
    void* self = nullptr;
    const Result r = take(vt.create("{}", &self));
    CHECK(self == nullptr);
    CHECK(r.code == MSW_STATUS_UNSUPPORTED);
    CHECK(contains(r.message, std::string("has no ") + (std::string(name) == "adam" ? "adamw_step" : "sgd_step")));
    CHECK(contains(r.message, "ABI 2.2"));
  }
}
