// The version rule (docs/abi.md), both ways:
//   - the host (registry) loads a plugin of its major that targets its minor or an older one, whatever SDK
//     minor the plugin was built with, and refuses one targeting a newer minor, naming both versions;
//   - the plugin (the SDK's generated entry) runs on a host of its major whose minor is at least the one it
//     targets, and there MSW_HOST_HAS tells it which newer entries the host has; an older host is refused,
//     naming both versions.
// An older host is simulated by handing the entry a copy of this host's table cut to the 2.0 size, with
// abi_minor 0.
#include "abi_2_0.h"
#include "abi_test_support.hpp"

#include "host/core/host_api.hpp"
#include "host/core/status.hpp"
#include "host/plugin_host/registry.hpp"

#include <megaswift/c/optimizer.h>

#include <boost/dll/shared_library.hpp>
#include <doctest/doctest.h>

#include <string>

using megaswift::abi_test::cpu_f32;
using megaswift::abi_test::kPluginDir;
using megaswift::abi_test::load_error;
using megaswift::abi_test::take_message;
using megaswift::host::PluginRegistry;

namespace {

const std::string kHostAbi = std::to_string(MSW_ABI_MAJOR) + "." + std::to_string(MSW_ABI_MINOR);
const std::string kNextAbi = std::to_string(MSW_ABI_MAJOR) + "." + std::to_string(MSW_ABI_MINOR + 1);

// register_op of the simulated hosts: counts the calls (a plugin must not call it on a 2.0 host).
int g_register_calls = 0;
msw_status* counting_register_op(const msw_custom_op* op) {
  ++g_register_calls;
  CHECK(std::string(op->name) == "host_probe.noop");
  return nullptr;
}

// A 2.0 host: this host's table cut to what ABI 2.0 had. The entries past struct_size are still in the
// memory (a plugin that ignored struct_size would call them).
const msw_host_api& host_2_0() {
  static msw_host_api h = [] {
    msw_host_api t = megaswift::host::host_api();
    t.struct_size = static_cast<uint32_t>(MSW_2_0_HOST_API_SIZE);
    t.abi_minor = 0;
    t.register_op = &counting_register_op;
    return t;
  }();
  return h;
}

// This host's full table with the counting register_op.
const msw_host_api& host_2_1() {
  static msw_host_api h = [] {
    msw_host_api t = megaswift::host::host_api();
    t.register_op = &counting_register_op;
    return t;
  }();
  return h;
}

using Entry = const msw_plugin_desc*(const msw_host_api*, msw_status**);

struct Library {
  explicit Library(const std::string& file)
      : lib((kPluginDir / "probe" / file).string(), boost::dll::load_mode::rtld_now | boost::dll::load_mode::rtld_local),
        entry(lib.get<Entry>(MSW_PLUGIN_ENTRY_SYMBOL)) {}
  boost::dll::shared_library lib;  // kept loaded: the plugin keeps the host pointer it was given
  Entry* entry;
};

// Creates and destroys one instance of the library's optimizer through the descriptor the entry returned.
void create_instance(const msw_plugin_desc* desc) {
  REQUIRE(desc->component_count == 1);
  const auto* vt = static_cast<const msw_optimizer_vtable*>(desc->components[0].vtable);
  void* self = nullptr;
  REQUIRE(vt->create("{}", &self) == nullptr);
  vt->destroy(self);
}

}  // namespace

TEST_CASE("a plugin built by a later SDK but targeting this host's minor loads, read through the sizes it declares") {
  PluginRegistry registry(megaswift::host::host_api());
  registry.load_library(kPluginDir / "libmegaswift_optimizer_next_minor_ok.so");
  const auto& c = registry.require(MSW_KIND_OPTIMIZER, "next_minor_ok");
  CHECK(c.abi_minor == MSW_ABI_MINOR + 1);
  CHECK(c.target_minor == MSW_ABI_MINOR);
  // Its component records and its vtable are longer than this host's; what the host knows reads right.
  CHECK(c.summary == "built by a later SDK (ABI test)");
  auto vt = PluginRegistry::vtable_copy<msw_optimizer_vtable>(c);
  void* self = nullptr;
  REQUIRE(vt.create("{}", &self) == nullptr);
  float w[2] = {2.0f, 4.0f};
  msw_optimizer_param p{};
  p.struct_size = sizeof(p);
  p.param = cpu_f32(w, 2);
  p.grad = cpu_f32(w, 2);
  msw_optimizer_step_args args{};
  args.struct_size = sizeof(args);
  args.lr = 0.25;
  args.params = &p;
  args.count = 1;
  args.param_size = sizeof(p);
  msw_exec_ctx ctx{};
  ctx.struct_size = sizeof(ctx);
  REQUIRE(vt.step(self, &ctx, &args) == nullptr);
  CHECK(w[0] == 1.5f);
  CHECK(w[1] == 3.0f);
  vt.destroy(self);
}

TEST_CASE("a plugin targeting a newer minor than the host's is refused by the host, naming both versions") {
  PluginRegistry registry(megaswift::host::host_api());
  const std::string message = load_error(registry, kPluginDir / "newer" / "libmegaswift_optimizer_next_minor_new.so");
  INFO(message);
  CHECK(message.find("targets Megaswift ABI " + kNextAbi) != std::string::npos);
  CHECK(message.find("this host provides ABI " + kHostAbi) != std::string::npos);
  CHECK(message.find("MSW_PLUGIN_TARGET_MINOR " + std::to_string(MSW_ABI_MINOR) + " or lower") != std::string::npos);
  CHECK(registry.find(MSW_KIND_OPTIMIZER, "next_minor_new") == nullptr);
}

TEST_CASE("a plugin targeting an older minor loads on this host and MSW_HOST_HAS finds the newer entries here") {
  Library lib("libmegaswift_optimizer_host_probe.so");
  msw_status* status = nullptr;
  const msw_plugin_desc* desc = lib.entry(&host_2_1(), &status);
  REQUIRE(desc != nullptr);
  CHECK(status == nullptr);
  CHECK(desc->abi_minor == MSW_ABI_MINOR);
  CHECK(desc->target_minor == 0);
  CHECK(desc->component_size == sizeof(msw_component));
  g_register_calls = 0;
  create_instance(desc);
  CHECK(g_register_calls == 1);  // MSW_HOST_HAS(register_op) was true
}

TEST_CASE("on a 2.0 host a plugin targeting minor 0 loads and MSW_HOST_HAS(register_op) is false") {
  Library lib("libmegaswift_optimizer_host_probe.so");
  msw_status* status = nullptr;
  const msw_plugin_desc* desc = lib.entry(&host_2_0(), &status);
  REQUIRE(desc != nullptr);
  CHECK(status == nullptr);
  g_register_calls = 0;
  create_instance(desc);
  CHECK(g_register_calls == 0);  // the entry lies past the 2.0 table: not called
}

TEST_CASE("on a 2.0 host a plugin with MSW_PLUGIN_TARGET_MINOR 1 refuses to load, naming both versions") {
  Library lib("libmegaswift_optimizer_host_probe_t1.so");
  msw_status* status = nullptr;
  CHECK(lib.entry(&host_2_0(), &status) == nullptr);
  REQUIRE(status != nullptr);
  CHECK(status->code == MSW_STATUS_VERSION_MISMATCH);
  const std::string message = take_message(status);
  INFO(message);
  CHECK(message.find("plugin 'host_probe_t1'") != std::string::npos);
  CHECK(message.find("targets Megaswift ABI " + std::to_string(MSW_ABI_MAJOR) + ".1") != std::string::npos);
  CHECK(message.find("host provides ABI " + std::to_string(MSW_ABI_MAJOR) + ".0") != std::string::npos);
  CHECK(message.find("MSW_PLUGIN_TARGET_MINOR") != std::string::npos);

  // The same library on this host: it loads through the registry, which shows what it targets.
  PluginRegistry registry(megaswift::host::host_api());
  registry.load_library(kPluginDir / "probe" / "libmegaswift_optimizer_host_probe_t1.so");
  CHECK(registry.require(MSW_KIND_OPTIMIZER, "host_probe_t1").target_minor == 1);
}
