// A kernel setting chosen by name in an environment variable, read once per process: the launchers' measurement
// switches (MEGASWIFT_ATTENTION_WARPGROUPS, MEGASWIFT_ATTENTION_BACKWARD_WS) share this instead of each
// parsing its own.
#pragma once

#include <kernels/cuda/launch.hpp>

#include <atomic>
#include <cstdlib>
#include <cstring>
#include <initializer_list>
#include <string>
#include <utility>

namespace megaswift::kernels::cuda {

// The setting in `slot`, which holds `unread` until the first call: then the value of the choice whose name the
// variable `var` equals, `fallback` where it is unset or empty, and a KernelError naming the variable and the
// choices for anything else. A value a setter stores in the slot first wins over the environment.
inline int env_setting(std::atomic<int>& slot, int unread, const char* var,
                       std::initializer_list<std::pair<const char*, int>> choices, int fallback) {
  int v = slot.load();
  if (v != unread) return v;
  v = fallback;
  if (const char* env = std::getenv(var); env && *env) {
    bool known = false;
    std::string names;
    for (const auto& [name, value] : choices) {
      if (std::strcmp(env, name) == 0) {
        v = value;
        known = true;
      }
      names += names.empty() ? name : std::string(" or ") + name;
    }
    if (!known) throw KernelError(std::string(var) + "=" + env + ": expected " + names);
  }
  int expected = unread;
  slot.compare_exchange_strong(expected, v);
  return slot.load();
}

}  // namespace megaswift::kernels::cuda
