// env_setting (kernels/cuda/env_setting.hpp), the launchers' switches read once from the environment. No device
// needed: it runs wherever the CUDA tests build.
#include "kernels/cuda/env_setting.hpp"

#include <doctest/doctest.h>

#include <atomic>
#include <cstdlib>
#include <string>

namespace kc = megaswift::kernels::cuda;

namespace {

constexpr const char* kVar = "MEGASWIFT_TEST_ENV_SETTING";

int read(std::atomic<int>& slot) { return kc::env_setting(slot, 0, kVar, {{"one", 1}, {"two", 2}}, 7); }

}  // namespace

TEST_CASE("an environment setting is the named choice, the fallback when unset or empty, and read only once") {
  ::unsetenv(kVar);
  std::atomic<int> unset{0};
  CHECK(read(unset) == 7);
  ::setenv(kVar, "", 1);
  std::atomic<int> empty{0};
  CHECK(read(empty) == 7);
  ::setenv(kVar, "two", 1);
  std::atomic<int> named{0};
  CHECK(read(named) == 2);
  ::setenv(kVar, "one", 1);
  CHECK(read(named) == 2);  // read once: the slot keeps its first answer
  std::atomic<int> set_before{1};  // a setter stored 1 before the first read
  ::setenv(kVar, "two", 1);
  CHECK(read(set_before) == 1);
  ::unsetenv(kVar);
}

TEST_CASE("an environment setting refuses a value it does not know, naming the variable and the choices") {
  ::setenv(kVar, "three", 1);
  std::atomic<int> slot{0};
  std::string message;
  try {
    read(slot);
  } catch (const kc::KernelError& e) {
    message = e.what();
  }
  CHECK(message == "MEGASWIFT_TEST_ENV_SETTING=three: expected one or two");
  CHECK(slot.load() == 0);  // nothing stored: the next read throws again
  ::unsetenv(kVar);
}
