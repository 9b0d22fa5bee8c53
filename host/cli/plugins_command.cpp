#include "host/cli/plugins_command.hpp"

#include "host/cli/frontend.hpp"
#include "host/cli/plugin_loading.hpp"
#include "host/config/error.hpp"
#include "host/core/logging.hpp"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <iomanip>
#include <iostream>

namespace megaswift::cli {
namespace {

struct PluginsOptions {
  std::vector<std::string> plugin_path;
  std::string logging_level;
  bool json = false;
};

std::string abi(uint32_t major, uint32_t minor) { return std::to_string(major) + "." + std::to_string(minor); }

// `plugins` takes three flags, so it parses them itself rather than through the training registry.
PluginsOptions parse(const std::vector<std::string>& args) {
  PluginsOptions o;
  for (size_t i = 0; i < args.size(); ++i) {
    const std::string& a = args[i];
    auto value = [&]() -> std::string {
      if (i + 1 >= args.size() || args[i + 1].rfind("--", 0) == 0)
        throw config::ConfigError(a + " needs a value");
      return args[++i];
    };
    if (a == "--plugin_path") {
      o.plugin_path.push_back(value());
      while (i + 1 < args.size() && args[i + 1].rfind("--", 0) != 0) o.plugin_path.push_back(args[++i]);
    } else if (a == "--logging_level") {
      o.logging_level = value();
    } else if (a == "--format") {
      std::string f = value();
      if (f != "json" && f != "table") throw config::ConfigError("--format: '" + f + "' is not one of table, json");
      o.json = f == "json";
    } else if (a == "-h" || a == "--help") {
      std::cout << "usage: megatron plugins [--plugin_path DIR ...] [--format table|json] [--logging_level LEVEL]\n\n"
                   "Lists every plugin component found in --plugin_path, MEGASWIFT_PLUGIN_PATH and\n"
                   "<exe>/../lib/megaswift/plugins, and every library that was refused with the reason.\n";
      std::exit(kOk);
    } else {
      throw config::ConfigError("unknown flag " + a + " for megatron plugins; it takes --plugin_path, --format and "
                                "--logging_level");
    }
  }
  return o;
}

}  // namespace

int run_plugins_command(const std::vector<std::string>& args) {
  PluginsOptions options = parse(args);
  host::init_logging(0, options.logging_level.empty() ? "warning" : options.logging_level);
  auto registry = load_plugins(options.plugin_path);

  std::vector<const host::LoadedComponent*> components;
  for (const auto& c : registry->all()) components.push_back(&c);
  std::sort(components.begin(), components.end(), [](auto* a, auto* b) {
    return std::tie(a->kind, a->name) < std::tie(b->kind, b->name);
  });

  if (options.json) {
    nlohmann::json out = {{"components", nlohmann::json::array()}, {"refused", nlohmann::json::array()}};
    for (const auto* c : components)
      out["components"].push_back({{"kind", host::kind_name(c->kind)}, {"name", c->name}, {"version", c->version},
                                   {"abi", abi(c->abi_major, c->abi_minor)},
                                   {"target_abi", abi(c->abi_major, c->target_minor)},
                                   {"plugin", c->plugin_name}, {"summary", c->summary},
                                   {"library", c->library_path.string()}});
    for (const auto& r : registry->refused())
      out["refused"].push_back({{"library", r.library_path.string()}, {"reason", r.reason}});
    std::cout << out.dump(2) << "\n";
    return kOk;
  }

  // ABI: the SDK the plugin was built with / the oldest host ABI it runs on (its target minor).
  std::cout << std::left << std::setw(12) << "KIND" << std::setw(14) << "NAME" << std::setw(10) << "VERSION"
            << std::setw(10) << "ABI" << std::setw(16) << "PLUGIN" << "SUMMARY\n";
  for (const auto* c : components)
    std::cout << std::setw(12) << host::kind_name(c->kind) << std::setw(14) << c->name << std::setw(10) << c->version
              << std::setw(10) << (abi(c->abi_major, c->abi_minor) + "/" + abi(c->abi_major, c->target_minor))
              << std::setw(16) << c->plugin_name << c->summary << "\n";
  if (!components.empty())
    std::cout << "\nABI: built with / runs on hosts from (this host: " << abi(MSW_ABI_MAJOR, MSW_ABI_MINOR) << ")\n";
  if (components.empty())
    std::cout << "(no plugins found: searched --plugin_path, MEGASWIFT_PLUGIN_PATH and <exe>/../lib/megaswift/plugins)\n";
  if (!registry->refused().empty()) {
    std::cout << "\nrefused libraries:\n";
    for (const auto& r : registry->refused()) std::cout << "  " << r.reason << "\n";
  }
  return kOk;
}

}  // namespace megaswift::cli
