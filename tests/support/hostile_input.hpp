// For tests that feed a hostile input (a FIFO, /dev/zero, a huge count): the bounds they assert. A regression would
// hang or exhaust memory instead of failing, so each test process arms a watchdog (SIGALRM kills it: CTest reports a
// failure, not a hang, even without its TIMEOUT property), and a test measures the time and peak memory of the call.
#pragma once

#include <sys/resource.h>
#include <unistd.h>

#include <chrono>
#include <cstdint>

namespace megaswift::test {

// Kills the process after `seconds` (default action of SIGALRM). Arm once per process, e.g. from a static.
inline bool arm_watchdog(unsigned seconds) {
  ::alarm(seconds);
  return true;
}

// The process's peak resident memory so far, in MiB (ru_maxrss is KiB on Linux).
inline int64_t peak_rss_mib() {
  rusage u{};
  ::getrusage(RUSAGE_SELF, &u);
  return static_cast<int64_t>(u.ru_maxrss) / 1024;
}

// Runs `f` and reports how long it took and how much the peak resident memory grew.
struct Bounded {
  double seconds = 0;
  int64_t peak_growth_mib = 0;
};
template <class F>
Bounded measure(F&& f) {
  const int64_t before = peak_rss_mib();
  const auto start = std::chrono::steady_clock::now();
  f();
  Bounded b;
  b.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  b.peak_growth_mib = peak_rss_mib() - before;
  return b;
}

}  // namespace megaswift::test
