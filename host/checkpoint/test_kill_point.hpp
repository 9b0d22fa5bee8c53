// Test hook for the crash-safety test (tests/integration/crash_safety): MEGASWIFT_TEST_KILL_AT=<point>[:<n>] makes
// the process raise SIGKILL on itself the n-th time (default 1) it reaches <point>, so a test can stop training at
// the exact places where a real kill -9 or power cut is most harmful. Unset (every production run), each point
// costs one load of a cached flag. The points, in the order a step and a save reach them:
//   step     inside a training step: after backward, before the optimizer updates the weights
//   save     inside a save: the format has written every file into the temporary directory, nothing is renamed
//   aside    a save replacing an existing iteration directory moved the old copy aside, the new one is not in place
//   rename   the new iteration directory is renamed into place, the tracker still names the previous one
//   tracker  the tracker names the new iteration (the save is complete)
#pragma once

namespace megaswift::host {

enum class KillPoint { step, save, aside, rename, tracker };

namespace detail {
bool kill_hook_armed();  // reads MEGASWIFT_TEST_KILL_AT once; HostError naming it when its value is malformed
void reached_kill_point(KillPoint point);
}  // namespace detail

inline void test_kill_point(KillPoint point) {
  static const bool armed = detail::kill_hook_armed();
  if (armed) detail::reached_kill_point(point);
}

}  // namespace megaswift::host
