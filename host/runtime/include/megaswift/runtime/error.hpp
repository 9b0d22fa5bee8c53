// The one exception the runtime throws: every failure (a missing plugin, a damaged model directory, a bad batch)
// arrives as megaswift::runtime::Error whose message says what went wrong and what to do.
#pragma once

#include <megaswift/runtime/export.hpp>

#include <stdexcept>
#include <string>

namespace megaswift::runtime {

class MEGASWIFT_RUNTIME_API Error : public std::runtime_error {
 public:
  explicit Error(const std::string& message);
  ~Error() override;
};

}  // namespace megaswift::runtime
