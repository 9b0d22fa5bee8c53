// What a call throws, as text: the message of the exception of type E that `f` throws, or `none` when it
// throws nothing (any other exception escapes, so a wrong type fails the test that called it).
#pragma once

#include <string>
#include <utility>

namespace megaswift::testing {

template <class E, class F>
std::string thrown_message(F&& f, std::string none = "(no error)") {
  try {
    std::forward<F>(f)();
  } catch (const E& e) {
    return e.what();
  }
  return none;
}

}  // namespace megaswift::testing
