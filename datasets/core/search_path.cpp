#include "datasets/core/search_path.hpp"

#include <cstdlib>

namespace megaswift::datasets {

namespace fs = std::filesystem;

fs::path current_executable() {
  std::error_code ec;
  fs::path exe = fs::read_symlink("/proc/self/exe", ec);
  return ec ? fs::path() : exe;
}

fs::path bundled_data_dir(const fs::path& executable) {
  std::error_code ec;
  if (!executable.empty()) {
    const fs::path installed = executable.parent_path() / ".." / "share" / "megaswift" / "datasets";
    if (fs::is_directory(installed, ec)) return fs::weakly_canonical(installed, ec);
  }
  const fs::path source_tree = MSW_DATASETS_SOURCE_DATA_DIR;
  if (fs::is_directory(source_tree, ec)) return source_tree;
  return {};
}

std::vector<fs::path> default_search_dirs(const fs::path& executable, std::string_view datasets_env) {
  std::vector<fs::path> dirs;
  if (fs::path bundled = bundled_data_dir(executable); !bundled.empty()) dirs.push_back(std::move(bundled));
  while (!datasets_env.empty()) {
    const std::size_t colon = datasets_env.find(':');
    const std::string_view item = datasets_env.substr(0, colon);
    if (!item.empty()) dirs.emplace_back(item);
    if (colon == std::string_view::npos) break;
    datasets_env.remove_prefix(colon + 1);
  }
  return dirs;
}

std::vector<fs::path> default_search_dirs() {
  const char* env = std::getenv("MEGASWIFT_DATASETS");
  return default_search_dirs(current_executable(), env ? std::string_view(env) : std::string_view());
}

}  // namespace megaswift::datasets
