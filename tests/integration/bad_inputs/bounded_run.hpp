// Runs one program the way a user does (its own process, its own working directory) under a wall-time and a
// resident-memory bound. A regression that hangs or grows without bound is killed at the bound and reported as such,
// so the harness itself never hangs or exhausts the machine.
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

namespace megaswift::bad_inputs {

struct Bounds {
  int64_t max_rss_mib = 400;
  double max_seconds = 20;
};

struct RunResult {
  int exit_code = -1;           // -1 when it did not exit normally
  int signal = 0;               // the signal that ended it, 0 when it exited
  bool killed_for_time = false;
  bool killed_for_memory = false;
  int64_t peak_rss_mib = 0;     // ru_maxrss of the child, from wait4
  double seconds = 0;
  std::string output;           // stdout and stderr together
};

// argv[0] is a path; stdin is /dev/null; `env` entries (NAME=value) are added to this process's environment, and a
// NAME without '=' removes that variable.
RunResult run_bounded(const std::vector<std::string>& argv, const std::filesystem::path& cwd,
                      const std::vector<std::string>& env, const Bounds& bounds);

}  // namespace megaswift::bad_inputs
