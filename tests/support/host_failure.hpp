// The HostError a call throws, as a value a test can check (message and status code), or "(no error)" when it
// returns normally: one line per bad input in the hostile-input suites.
#pragma once

#include "host/core/status.hpp"

#include <string>

namespace megaswift::test {

struct Failure {
  std::string message;
  msw_status_code code = MSW_STATUS_OK;
};

Failure failure_of(auto&& fn) {
  try {
    fn();
  } catch (const host::HostError& e) {
    return {e.what(), e.code()};
  }
  return {"(no error)", MSW_STATUS_OK};
}

}  // namespace megaswift::test
