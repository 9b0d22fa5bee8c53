// A per-process scratch directory under the system temp folder, emptied when first asked for and removed when
// the test process exits, so suites leave nothing behind in /tmp.
#pragma once

#include <unistd.h>

#include <filesystem>
#include <mutex>
#include <set>
#include <string>
#include <system_error>

namespace megaswift::testing {

namespace detail {
// Removes every directory handed out, at static destruction (normal exit of the test process).
struct ScratchDirs {
  std::mutex mutex;
  std::set<std::filesystem::path> dirs;
  ~ScratchDirs() {
    std::error_code ec;
    for (const auto& d : dirs) std::filesystem::remove_all(d, ec);
  }
};
inline ScratchDirs& scratch_dirs() {
  static ScratchDirs s;
  return s;
}
}  // namespace detail

// <temp>/<prefix>_<pid>: created (emptied on the first call of the process), removed at exit.
inline std::filesystem::path scratch_dir(const std::string& prefix) {
  const auto dir = std::filesystem::temp_directory_path() / (prefix + "_" + std::to_string(::getpid()));
  auto& s = detail::scratch_dirs();
  std::lock_guard<std::mutex> lock(s.mutex);
  if (s.dirs.insert(dir).second) std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  return dir;
}

}  // namespace megaswift::testing
