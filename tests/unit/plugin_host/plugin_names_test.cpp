// Plugin-provided strings: a component name with a control character or not in UTF-8 is refused naming the
// library; the other strings (plugin name, versions, summary, log text) reach users escaped.
#include "host/core/host_api.hpp"
#include "host/core/status.hpp"
#include "host/plugin_host/registry.hpp"
#include "plugin_host_test_support.hpp"

#include <doctest/doctest.h>
#include <spdlog/sinks/ostream_sink.h>
#include <spdlog/spdlog.h>

#include <sstream>
#include <string>

using namespace megaswift::plugin_host_test;
using megaswift::host::PluginRegistry;

namespace {

fs::path odd_text_plugin(int variant) {
  const std::string v = std::to_string(variant);
  return kTestPlugins / ("odd_text_" + v) / ("libmegaswift_optimizer_odd_text_" + v + ".so");
}

bool has_control_byte(const std::string& text) {
  for (unsigned char c : text)
    if (c < 0x20 || c == 0x7f) return true;
  return false;
}

}  // namespace

TEST_CASE("a component named with a control character is refused naming the library, the name escaped") {
  const ChildLoad r = load_in_child(odd_text_plugin(1));
  INFO("message: " << r.message);
  CHECK(r.exited);
  CHECK_FALSE(r.loaded);
  CHECK(contains(r.message, odd_text_plugin(1).string() + ": component #0 of plugin 'esc\\x0dname' is named "
                                                          "'esc\\x1b[31mred', which holds a control character"));
  CHECK(contains(r.message, "fix the name in the plugin and rebuild it, or remove this library"));
  CHECK_FALSE(has_control_byte(r.message));
}

TEST_CASE("a component name that is not UTF-8 is refused, the bad byte escaped") {
  const ChildLoad r = load_in_child(odd_text_plugin(2));
  INFO("message: " << r.message);
  CHECK_FALSE(r.loaded);
  CHECK(contains(r.message, "of plugin 'latin1' is named 'caf\\xe9', which holds a control character or bytes that "
                            "are not UTF-8"));
}

TEST_CASE("a refused library stays out of the registry and is listed with its reason") {
  const fs::path dir = fresh_dir("names");
  fs::copy_file(odd_text_plugin(1), dir / odd_text_plugin(1).filename());
  fs::copy_file(kTinyPlugin, dir / kTinyPlugin.filename());
  PluginRegistry registry(megaswift::host::host_api());
  registry.load_directories({dir});
  CHECK(registry.list(MSW_KIND_OPTIMIZER).size() == 1);
  REQUIRE(registry.refused().size() == 1);
  CHECK(contains(registry.refused()[0].reason, "is named 'esc\\x1b[31mred'"));
}

TEST_CASE("a plugin's version, summary and plugin strings are kept escaped, so every listing prints them safely") {
  PluginRegistry registry(megaswift::host::host_api());
  registry.load_library(odd_text_plugin(3));
  const auto& c = registry.require(MSW_KIND_OPTIMIZER, "odd_text");
  CHECK(c.version == "1.0\\x1b[2J");
  CHECK(c.summary == "line one\\x0aline two \\x9b caf\xc3\xa9");
  CHECK(c.plugin_version == "\\xe2\\x80\\xae1.0");
  CHECK(c.plugin_name == "odd_text");
}

TEST_CASE("a plugin's log line is escaped, so it cannot forge a second line or send terminal escapes") {
  std::ostringstream captured;
  auto previous = spdlog::default_logger();
  auto logger = std::make_shared<spdlog::logger>("capture", std::make_shared<spdlog::sinks::ostream_sink_st>(captured));
  logger->set_pattern("%v");
  spdlog::set_default_logger(logger);
  megaswift::host::host_api().log(MSW_LOG_WARN, "comp\x1b[1m", "step 1 done\n[error] forged line\r");
  spdlog::set_default_logger(previous);
  CHECK(captured.str() == "[comp\\x1b[1m] step 1 done\\x0a[error] forged line\\x0d\n");
}
