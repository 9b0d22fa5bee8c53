// std::bad_alloc says "std::bad_alloc" and std::length_error says "vector::reserve": neither tells the user what ran
// out or what to do. naming_out_of_memory runs a step and turns both into a HostError (MSW_STATUS_OUT_OF_MEMORY)
// that names the step; the command boundary (host/cli/frontend.cpp) does the same for whatever no step caught.
#pragma once

#include "host/core/status.hpp"

#include <new>
#include <stdexcept>
#include <string>
#include <utility>

namespace megaswift::host {

// "out of memory while <what> (<detail>): ..." with the usual ways out.
inline std::string out_of_memory_message(const std::string& what, const std::string& detail) {
  return "out of memory while " + what + " (" + detail +
         "): the host could not allocate what this step needs; free memory, or make the input smaller (fewer rows "
         "with '#N', a shorter --max_length, --lazy_tokenize true, a smaller model)";
}

template <class F>
decltype(auto) naming_out_of_memory(const std::string& what, F&& step) {
  try {
    return std::forward<F>(step)();
  } catch (const std::bad_alloc& e) {
    throw HostError(MSW_STATUS_OUT_OF_MEMORY, out_of_memory_message(what, e.what()));
  } catch (const std::length_error& e) {  // a size beyond what a container can hold: the same cause, reached sooner
    throw HostError(MSW_STATUS_OUT_OF_MEMORY, out_of_memory_message(what, std::string("a size too large: ") + e.what()));
  }
}

}  // namespace megaswift::host
