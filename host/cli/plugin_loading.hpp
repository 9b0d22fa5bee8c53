// Builds the process's plugin registry from the search path (--plugin_path values first).
#pragma once

#include "host/plugin_host/registry.hpp"

#include <memory>
#include <string>
#include <vector>

namespace megaswift::cli {

std::unique_ptr<host::PluginRegistry> load_plugins(const std::vector<std::string>& plugin_path_flag);

}  // namespace megaswift::cli
