#include "host/cli/plugin_loading.hpp"

#include "host/core/host_api.hpp"

namespace megaswift::cli {

std::unique_ptr<host::PluginRegistry> load_plugins(const std::vector<std::string>& plugin_path_flag) {
  auto registry = std::make_unique<host::PluginRegistry>(host::host_api());
  registry->load_directories(host::PluginRegistry::search_path(plugin_path_flag), plugin_path_flag.size());
  return registry;
}

}  // namespace megaswift::cli
