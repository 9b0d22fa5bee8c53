#include "host/plugin_host/registry.hpp"

#include <boost/dll/runtime_symbol_info.hpp>

#include <cstdlib>
#include <sstream>

namespace megaswift::host {

namespace {

std::vector<std::filesystem::path> flag_and_environment(const std::vector<std::string>& plugin_path_flag) {
  std::vector<std::filesystem::path> dirs(plugin_path_flag.begin(), plugin_path_flag.end());
  if (const char* env = std::getenv("MEGASWIFT_PLUGIN_PATH")) {
    std::stringstream ss(env);
    std::string item;
    while (std::getline(ss, item, ':'))
      if (!item.empty()) dirs.emplace_back(item);
  }
  return dirs;
}

}  // namespace

std::vector<std::filesystem::path> PluginRegistry::search_path(const std::vector<std::string>& plugin_path_flag) {
  std::vector<std::filesystem::path> dirs = flag_and_environment(plugin_path_flag);
  boost::dll::fs::error_code ec;
  auto exe = boost::dll::program_location(ec);
  if (!ec) dirs.push_back(std::filesystem::path(exe.string()).parent_path() / ".." / "lib" / "megaswift" / "plugins");
  return dirs;
}

std::vector<std::filesystem::path> PluginRegistry::search_path(const std::vector<std::string>& plugin_path_flag,
                                                               const std::filesystem::path& default_directory) {
  std::vector<std::filesystem::path> dirs = flag_and_environment(plugin_path_flag);
  dirs.push_back(default_directory);
  return dirs;
}

}  // namespace megaswift::host
