// Loading plugins through the real registry: a C plugin loads, foreign majors and broken libraries are
// refused with messages that name the problem, and the healthy ones still load.
#include "abi_test_support.hpp"

#include "host/core/host_api.hpp"
#include "host/core/status.hpp"
#include "host/plugin_host/registry.hpp"

#include <megaswift/c/optimizer.h>

#include <boost/dll/shared_library.hpp>
#include <doctest/doctest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>

namespace fs = std::filesystem;
using megaswift::abi_test::fresh_temp_dir;
using megaswift::abi_test::kPluginDir;
using megaswift::abi_test::load_error;
using megaswift::host::HostError;
using megaswift::host::PluginRegistry;

TEST_CASE("a plugin written in plain C loads with the versions it was built with and targets") {
  PluginRegistry registry(megaswift::host::host_api());
  registry.load_library(kPluginDir / "libmegaswift_optimizer_c_sgd.so");
  const auto& c = registry.require(MSW_KIND_OPTIMIZER, "c_sgd");
  CHECK(c.plugin_name == "c_sgd");
  CHECK(c.abi_major == MSW_ABI_MAJOR);
  CHECK(c.abi_minor == MSW_ABI_MINOR);
  CHECK(c.target_minor == 0);
  auto vt = PluginRegistry::vtable_copy<msw_optimizer_vtable>(c);
  CHECK(static_cast<bool>(vt.step));
}

TEST_CASE("a plugin built for another ABI major is refused and the message names both versions") {
  PluginRegistry registry(megaswift::host::host_api());
  std::string message = load_error(registry, kPluginDir / "foreign" / "libmegaswift_optimizer_future_opt.so");
  CHECK(message.find("built for Megaswift ABI " + std::to_string(MSW_ABI_MAJOR + 1) + ".0") != std::string::npos);
  CHECK(message.find("this host provides ABI " + std::to_string(MSW_ABI_MAJOR) + "." +
                     std::to_string(MSW_ABI_MINOR)) != std::string::npos);
  CHECK(message.find("rebuild the plugin") != std::string::npos);
  CHECK(registry.find(MSW_KIND_OPTIMIZER, "future_opt") == nullptr);
}

TEST_CASE("a plugin built with the C++ SDK refuses a host of another major and names both versions") {
  boost::dll::shared_library lib((kPluginDir / "libmegaswift_optimizer_scale_opt.so").string(),
                                 boost::dll::load_mode::rtld_now | boost::dll::load_mode::rtld_local);
  auto entry = lib.get<const msw_plugin_desc*(const msw_host_api*, msw_status**)>(MSW_PLUGIN_ENTRY_SYMBOL);
  static msw_host_api future_host = megaswift::host::host_api();
  future_host.abi_major = MSW_ABI_MAJOR + 1;
  future_host.abi_minor = 3;
  msw_status* status = nullptr;
  CHECK(entry(&future_host, &status) == nullptr);
  REQUIRE(status != nullptr);
  CHECK(status->code == MSW_STATUS_VERSION_MISMATCH);
  std::string message = megaswift::abi_test::take_message(status);
  CHECK(message.find("needs a host of Megaswift ABI " + std::to_string(MSW_ABI_MAJOR) + ".x") != std::string::npos);
  CHECK(message.find("host provides ABI " + std::to_string(MSW_ABI_MAJOR + 1) + ".3") != std::string::npos);
}

TEST_CASE("a corrupt .so in a plugin directory is skipped with a warning while the healthy plugins load") {
  fs::path dir = fresh_temp_dir("corrupt");
  std::ofstream(dir / "libmegaswift_model_corrupt.so") << "this is not an ELF file";
  fs::copy_file(kPluginDir / "libmegaswift_optimizer_c_sgd.so", dir / "libmegaswift_optimizer_c_sgd.so");
  PluginRegistry registry(megaswift::host::host_api());
  registry.load_directories({dir});
  CHECK(registry.find(MSW_KIND_OPTIMIZER, "c_sgd") != nullptr);
  REQUIRE(registry.refused().size() == 1);
  CHECK(registry.refused()[0].library_path.filename() == "libmegaswift_model_corrupt.so");
  CHECK(registry.refused()[0].reason.find("not a loadable shared library") != std::string::npos);
  fs::remove_all(dir);
}

TEST_CASE("a component lacking a required vtable entry is refused and the entry is named") {
  PluginRegistry registry(megaswift::host::host_api());
  std::string message = load_error(registry, kPluginDir / "incomplete" / "libmegaswift_optimizer_incomplete_opt.so");
  CHECK(message.find("lacks the required vtable entry 'step'") != std::string::npos);
  CHECK(registry.find(MSW_KIND_OPTIMIZER, "incomplete_opt") == nullptr);
}

TEST_CASE("a second library providing the same kind and name is refused as a duplicate naming the first") {
  fs::path dir = fresh_temp_dir("duplicate");
  fs::copy_file(kPluginDir / "libmegaswift_optimizer_c_sgd.so", dir / "libmegaswift_optimizer_c_sgd.so");
  PluginRegistry registry(megaswift::host::host_api());
  registry.load_library(kPluginDir / "libmegaswift_optimizer_c_sgd.so");
  std::string message = load_error(registry, dir / "libmegaswift_optimizer_c_sgd.so");
  CHECK(message.find("component 'c_sgd' is already provided by") != std::string::npos);
  CHECK(message.find((kPluginDir / "libmegaswift_optimizer_c_sgd.so").string()) != std::string::npos);
  CHECK(registry.list(MSW_KIND_OPTIMIZER).size() == 1);
  fs::remove_all(dir);
}

TEST_CASE("the same library reached through two paths is loaded once") {
  PluginRegistry registry(megaswift::host::host_api());
  registry.load_library(kPluginDir / "libmegaswift_optimizer_c_sgd.so");
  registry.load_library(kPluginDir / "." / "libmegaswift_optimizer_c_sgd.so");
  CHECK(registry.list(MSW_KIND_OPTIMIZER).size() == 1);
}

TEST_CASE("asking for a plugin that is not loaded lists the loaded names of that kind") {
  PluginRegistry registry(megaswift::host::host_api());
  registry.load_library(kPluginDir / "libmegaswift_optimizer_c_sgd.so");
  try {
    registry.require(MSW_KIND_OPTIMIZER, "adamw_future");
    FAIL("require did not throw");
  } catch (const HostError& e) {
    std::string m = e.what();
    CHECK(m.find("no optimizer plugin named 'adamw_future'") != std::string::npos);
    CHECK(m.find("available: c_sgd") != std::string::npos);
  }
}

TEST_CASE("the search path is --plugin_path, then MEGASWIFT_PLUGIN_PATH, then the install's plugin folder") {
  ::setenv("MEGASWIFT_PLUGIN_PATH", "/env/one:/env/two", 1);
  auto dirs = PluginRegistry::search_path({"/flag/a", "/flag/b"});
  ::unsetenv("MEGASWIFT_PLUGIN_PATH");
  REQUIRE(dirs.size() == 5);
  CHECK(dirs[0] == "/flag/a");
  CHECK(dirs[1] == "/flag/b");
  CHECK(dirs[2] == "/env/one");
  CHECK(dirs[3] == "/env/two");
  CHECK(dirs[4].string().find("lib/megaswift/plugins") != std::string::npos);
}

TEST_CASE("an embedding library's search path ends with its own plugin folder instead of the executable's") {
  ::setenv("MEGASWIFT_PLUGIN_PATH", "/env/one", 1);
  auto dirs = PluginRegistry::search_path({"/flag/a"}, "/opt/megaswift/lib/megaswift/plugins");
  ::unsetenv("MEGASWIFT_PLUGIN_PATH");
  REQUIRE(dirs.size() == 3);
  CHECK(dirs[0] == "/flag/a");
  CHECK(dirs[1] == "/env/one");
  CHECK(dirs[2] == "/opt/megaswift/lib/megaswift/plugins");
}

TEST_CASE("a --plugin_path directory that does not exist is an error naming it") {
  PluginRegistry registry(megaswift::host::host_api());
  CHECK_THROWS_WITH_AS(registry.load_directories({"/no/such/plugins"}, 1),
                       doctest::Contains("--plugin_path /no/such/plugins"), HostError);
  CHECK_NOTHROW(registry.load_directories({"/no/such/plugins"}, 0));
}
