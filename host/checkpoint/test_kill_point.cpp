#include "host/checkpoint/test_kill_point.hpp"

#include "host/core/status.hpp"

#include <atomic>
#include <csignal>
#include <cstdlib>
#include <string>
#include <unistd.h>

namespace megaswift::host::detail {
namespace {

constexpr const char* kVariable = "MEGASWIFT_TEST_KILL_AT";
constexpr const char* kNames[] = {"step", "save", "aside", "rename", "tracker"};

struct Target {
  int point = -1;  // -1: unarmed
  long count = 1;
};

Target parse_target() {
  const char* raw = std::getenv(kVariable);
  if (!raw || !*raw) return {};
  const std::string value = raw;
  const auto colon = value.find(':');
  const std::string name = value.substr(0, colon);
  Target t;
  for (int i = 0; i < static_cast<int>(std::size(kNames)); ++i)
    if (name == kNames[i]) t.point = i;
  bool count_ok = true;
  if (colon != std::string::npos) {
    const std::string n = value.substr(colon + 1);
    char* end = nullptr;
    t.count = n.empty() ? 0 : std::strtol(n.c_str(), &end, 10);
    count_ok = !n.empty() && end && *end == '\0' && t.count >= 1;
  }
  if (t.point < 0 || !count_ok)
    throw HostError(MSW_STATUS_INVALID_ARGUMENT,
                    std::string(kVariable) + "='" + value + "' is not <point>[:<n>] with <point> one of step, save, "
                                                         "aside, rename, tracker and <n> >= 1 (a crash-safety test hook; "
                                                         "unset it for a real run)");
  return t;
}

const Target& target() {
  static const Target t = parse_target();
  return t;
}

}  // namespace

bool kill_hook_armed() { return target().point >= 0; }

void reached_kill_point(KillPoint point) {
  static std::atomic<long> reached{0};
  const Target& t = target();
  if (static_cast<int>(point) != t.point || reached.fetch_add(1) + 1 != t.count) return;
  // write(2), not the logger: nothing buffered may be flushed on the way down, as with a real kill -9.
  const std::string line = std::string(kVariable) + ": SIGKILL at " + kNames[t.point] + ":" + std::to_string(t.count) + "\n";
  [[maybe_unused]] const ssize_t n = ::write(STDERR_FILENO, line.data(), line.size());
  ::kill(::getpid(), SIGKILL);
  ::pause();  // SIGKILL cannot be caught; this is never passed
}

}  // namespace megaswift::host::detail
