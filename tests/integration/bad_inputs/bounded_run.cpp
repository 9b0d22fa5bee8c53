#include "bounded_run.hpp"

#include <fcntl.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <fstream>
#include <iterator>
#include <stdexcept>
#include <thread>

namespace megaswift::bad_inputs {
namespace {

// The child's resident set now, from /proc (0 once it is gone); polled so a runaway is stopped at its bound
// rather than after it has taken the machine's memory.
int64_t resident_mib(pid_t pid) {
  std::ifstream statm("/proc/" + std::to_string(pid) + "/statm");
  int64_t size = 0, resident = 0;
  if (!(statm >> size >> resident)) return 0;
  return resident * ::sysconf(_SC_PAGESIZE) / (1 << 20);
}

[[noreturn]] void exec_child(const std::vector<std::string>& argv, const std::filesystem::path& cwd,
                             const std::vector<std::string>& env, const std::filesystem::path& log) {
  ::setpgid(0, 0);
  const int in = ::open("/dev/null", O_RDONLY);
  const int out = ::open(log.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  if (in < 0 || out < 0 || ::chdir(cwd.c_str()) != 0) ::_exit(126);
  ::dup2(in, 0);
  ::dup2(out, 1);
  ::dup2(out, 2);
  for (const std::string& e : env) {
    const auto eq = e.find('=');
    if (eq == std::string::npos) ::unsetenv(e.c_str());
    else ::setenv(e.substr(0, eq).c_str(), e.substr(eq + 1).c_str(), 1);
  }
  std::vector<char*> args;
  for (const std::string& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  ::execv(args[0], args.data());
  ::_exit(127);
}

}  // namespace

RunResult run_bounded(const std::vector<std::string>& argv, const std::filesystem::path& cwd,
                      const std::vector<std::string>& env, const Bounds& bounds) {
  const std::filesystem::path log = cwd.parent_path() / (cwd.filename().string() + ".output");
  const auto start = std::chrono::steady_clock::now();
  const pid_t pid = ::fork();
  if (pid < 0) throw std::runtime_error("fork failed");
  if (pid == 0) exec_child(argv, cwd, env, log);

  RunResult r;
  int status = 0;
  rusage usage{};
  for (;;) {
    const pid_t done = ::wait4(pid, &status, WNOHANG, &usage);
    if (done == pid) break;
    if (done < 0) throw std::runtime_error("wait4 failed");
    r.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    const bool over_time = r.seconds > bounds.max_seconds;
    const bool over_memory = resident_mib(pid) > bounds.max_rss_mib;
    if (over_time || over_memory) {
      r.killed_for_time = over_time;
      r.killed_for_memory = over_memory;
      ::kill(-pid, SIGKILL);  // its process group: whatever it started goes too
      ::kill(pid, SIGKILL);
      ::wait4(pid, &status, 0, &usage);
      break;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  r.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  r.peak_rss_mib = static_cast<int64_t>(usage.ru_maxrss) / 1024;
  if (WIFEXITED(status)) r.exit_code = WEXITSTATUS(status);
  if (WIFSIGNALED(status)) r.signal = WTERMSIG(status);
  std::ifstream in(log, std::ios::binary);
  r.output.assign(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
  return r;
}

}  // namespace megaswift::bad_inputs
