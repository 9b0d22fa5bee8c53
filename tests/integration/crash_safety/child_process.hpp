// A child process that the crash-safety test can kill the way a real kill -9 does: started in its own process group
// (so the SIGKILL reaches every process of the run and no orphan keeps writing), its output going to a log file.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

namespace crash_test {

struct ChildExit {
  int exit_code = -1;  // when it exited
  int signal = 0;      // when a signal ended it
  double seconds = 0;  // from start to end
};

class ChildProcess {
 public:
  // Runs argv[0] (a path) with `env` ("NAME=value") added to this process's environment; stdout and stderr go to
  // `log`. Throws std::runtime_error when it cannot start.
  ChildProcess(const std::vector<std::string>& argv, const std::vector<std::string>& env,
               const std::filesystem::path& log);
  ~ChildProcess();  // a child still running is killed and reaped
  ChildProcess(const ChildProcess&) = delete;
  ChildProcess& operator=(const ChildProcess&) = delete;

  // Waits up to `limit`; nullopt when it is still running then.
  std::optional<ChildExit> wait_for(std::chrono::duration<double> limit);
  // Sends SIGKILL to the child's process group and reaps the child.
  ChildExit kill_now();
  double seconds_running() const;

 private:
  pid_t pid_ = -1;
  std::chrono::steady_clock::time_point start_;
  std::optional<ChildExit> done_;
};

}  // namespace crash_test
