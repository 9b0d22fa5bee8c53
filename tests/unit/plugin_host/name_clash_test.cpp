// A third-party library naming a component like a built-in one: that library is refused, naming it and the
// clashing name, and every built-in component stays usable, whatever the order of the search path.
#include "host/core/host_api.hpp"
#include "host/core/status.hpp"
#include "host/plugin_host/registry.hpp"
#include "plugin_host_test_support.hpp"

#include <doctest/doctest.h>

#include <cstdlib>
#include <string>
#include <vector>

using namespace megaswift::plugin_host_test;
using megaswift::host::PluginRegistry;

namespace {

const fs::path kClashDir = kTestPlugins / "clash";

// The template names the built-in library provides, read from the library itself.
std::vector<std::string> builtin_template_names() {
  PluginRegistry registry(megaswift::host::host_api());
  registry.load_library(kChatTemplates);
  std::vector<std::string> names;
  for (const auto* c : registry.list(MSW_KIND_TEMPLATE)) names.push_back(c->name);
  return names;
}

// A plugin folder of the host's own, holding a copy of the built-in template library.
fs::path builtin_folder() {
  const fs::path dir = fresh_dir("builtin");
  fs::copy_file(kChatTemplates, dir / kChatTemplates.filename());
  return dir;
}

void check_only_the_third_party_refused(const PluginRegistry& registry, const fs::path& builtin) {
  const auto names = builtin_template_names();
  REQUIRE(names.size() >= 2);
  for (const auto& name : names) {
    const auto* c = registry.find(MSW_KIND_TEMPLATE, name);
    REQUIRE_MESSAGE(c != nullptr, name);
    CHECK(c->library_path == fs::weakly_canonical(builtin / kChatTemplates.filename()));
  }
  CHECK(registry.find(MSW_KIND_TEMPLATE, "clash_own") == nullptr);  // a library is all in or all out
  REQUIRE(registry.refused().size() == 1);
  const std::string& reason = registry.refused()[0].reason;
  INFO("reason: " << reason);
  CHECK(contains(reason, (kClashDir / "libmegaswift_template_clash.so").string() +
                             ": template component 'qwen' is already provided by the built-in library " +
                             fs::weakly_canonical(builtin / kChatTemplates.filename()).string()));
  CHECK(contains(reason, "plugin 'clash' is not loaded: rename its template 'qwen'"));
}

}  // namespace

TEST_CASE("a --plugin_path template named like a built-in one is refused alone and the built-ins stay") {
  const fs::path builtin = builtin_folder();
  PluginRegistry registry(megaswift::host::host_api());
  const auto dirs = PluginRegistry::search_path({kClashDir.string()}, builtin);
  registry.load_directories(dirs, 1);
  check_only_the_third_party_refused(registry, builtin);
}

TEST_CASE("the same clash from MEGASWIFT_PLUGIN_PATH is refused the same way") {
  const fs::path builtin = builtin_folder();
  ::setenv("MEGASWIFT_PLUGIN_PATH", kClashDir.c_str(), 1);
  const auto dirs = PluginRegistry::search_path({}, builtin);
  ::unsetenv("MEGASWIFT_PLUGIN_PATH");
  PluginRegistry registry(megaswift::host::host_api());
  registry.load_directories(dirs, 0);
  check_only_the_third_party_refused(registry, builtin);
}

TEST_CASE("two third-party libraries with the same name: the later one is refused, naming the first") {
  const fs::path other = fresh_dir("other_clash");
  fs::copy_file(kClashDir / "libmegaswift_template_clash.so", other / "libmegaswift_template_clash.so");
  const fs::path builtin = fresh_dir("empty_builtin");
  PluginRegistry registry(megaswift::host::host_api());
  registry.load_directories({kClashDir, other, builtin}, 2);
  CHECK(registry.find(MSW_KIND_TEMPLATE, "clash_own") != nullptr);
  REQUIRE(registry.refused().size() == 1);
  const std::string& reason = registry.refused()[0].reason;
  CHECK(contains(reason, "template component 'clash_own' is already provided by " +
                             fs::weakly_canonical(kClashDir / "libmegaswift_template_clash.so").string() +
                             "; remove one of the two libraries"));
}
