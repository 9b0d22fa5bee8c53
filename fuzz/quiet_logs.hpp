// The libraries log what a user should see (refused plugins, dropped rows); at thousands of inputs a second
// that output is most of a fuzzer's time, so targets that reach spdlog include this once.
#pragma once

#include <spdlog/spdlog.h>

namespace msw_fuzz {

inline const bool logs_off = [] {
  spdlog::set_level(spdlog::level::off);
  return true;
}();

}  // namespace msw_fuzz
