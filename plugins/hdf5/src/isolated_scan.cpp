// libhdf5 read of a checkpoint's metadata in a child process first (isolated_scan in hdf5_format.hpp).
//
// Why: libhdf5 (Debian's 1.10.8) trusts the file's internal structures. Fuzzing found a damaged global heap that
// makes reading a string attribute loop forever, and an attribute message it reads past its own buffer
// (fuzz/README.md). Neither can be caught or interrupted inside the process, and our own reads cannot check those
// structures before libhdf5 walks them. A forked child walks exactly what the reader will (every rank file's
// attributes and the common state) and exits; the parent waits with a time limit, so a loop or a crash in libhdf5
// becomes an error naming the checkpoint instead of a hung or dead training run. The child never returns into
// the caller: it leaves through _exit (no destructors, no atexit handlers of a parent holding a GPU context).
#include "hdf5_format.hpp"

#include <signal.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <string>

namespace megaswift::hdf5 {

using sdk::Error;

namespace {

constexpr int kChildRefused = 3;  // the child's scan threw a (well-described) sdk::Error

void child_scan(const std::string& dir) {
  // The parent's crash handlers (a test framework's, a fuzzer's) would report the child's death as the parent's:
  // the child dies by the signal itself, and the parent names it.
  for (int sig : {SIGSEGV, SIGBUS, SIGFPE, SIGILL, SIGABRT}) ::signal(sig, SIG_DFL);
  int code = 0;
  try {
    Silence quiet;
    const Index index = scan_files(dir);
    if (!index.common_file.empty()) {
      Handle f = open_file_readonly(dir + "/" + index.common_file, "hdf5: cannot open " + index.common_file);
      (void)read_string_dataset(f.get(), kCommonDataset, index.common_file);
    }
  } catch (const Error&) {
    code = kChildRefused;
  } catch (...) {
    code = 4;
  }
  ::_exit(code);
}

double seconds_since(const timespec& start) {
  timespec now{};
  ::clock_gettime(CLOCK_MONOTONIC, &now);
  return double(now.tv_sec - start.tv_sec) + double(now.tv_nsec - start.tv_nsec) * 1e-9;
}

}  // namespace

void isolated_scan(const std::string& dir, double limit_seconds) {
  const pid_t pid = ::fork();
  if (pid < 0)
    throw Error(MSW_STATUS_IO, "hdf5: cannot start the process that checks " + dir + " (fork: " +
                                         std::strerror(errno) + ")");
  if (pid == 0) child_scan(dir);  // does not return

  timespec start{};
  ::clock_gettime(CLOCK_MONOTONIC, &start);
  int status = 0;
  long sleep_ns = 100'000;  // 0.1 ms, doubling to 20 ms: a healthy scan takes milliseconds
  for (;;) {
    const pid_t done = ::waitpid(pid, &status, WNOHANG);
    if (done == pid) break;
    if (done < 0 && errno != EINTR)
      throw Error(MSW_STATUS_IO, "hdf5: lost the process that checks " + dir + " (waitpid: " +
                                           std::strerror(errno) + ")");
    if (seconds_since(start) > limit_seconds) {
      ::kill(pid, SIGKILL);
      while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
      }
      throw Error(MSW_STATUS_INVALID_ARGUMENT,
                  "hdf5: " + dir + ": libhdf5 did not finish reading the checkpoint's metadata within " +
                      std::to_string(static_cast<int>(limit_seconds)) +
                      " s (a damaged file can make it loop forever): the checkpoint is damaged; restore it from a "
                      "copy or load another one");
    }
    const timespec pause{0, sleep_ns};
    ::nanosleep(&pause, nullptr);
    sleep_ns = sleep_ns * 2 > 20'000'000 ? 20'000'000 : sleep_ns * 2;
  }
  if (WIFSIGNALED(status))
    throw Error(MSW_STATUS_INVALID_ARGUMENT, "hdf5: " + dir + ": libhdf5 crashed (signal " +
                                                 std::to_string(WTERMSIG(status)) + ", " +
                                                 strsignal(WTERMSIG(status)) +
                                                 ") reading the checkpoint's metadata: a file of it is damaged; "
                                                 "restore it from a copy or load another one");
  // Exit 0: the metadata reads finish. kChildRefused: they end in an error, which the caller's own scan reports
  // in full. Anything else is a failure without a message of ours (e.g. a sanitizer's report in the child).
  if (WIFEXITED(status) && (WEXITSTATUS(status) == 0 || WEXITSTATUS(status) == kChildRefused)) return;
  throw Error(MSW_STATUS_INVALID_ARGUMENT, "hdf5: " + dir + ": reading the checkpoint's metadata with libhdf5 failed "
                                           "(the checking process exited with status " +
                                               std::to_string(WIFEXITED(status) ? WEXITSTATUS(status) : -1) +
                                               "): a file of it is damaged; restore it from a copy or load another one");
}

}  // namespace megaswift::hdf5
