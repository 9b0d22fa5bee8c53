// The one exception type of the config library. Its message is written for the user: it names the
// flag, the offending value and what would be accepted, so front ends print it as it is.
#pragma once

#include <stdexcept>
#include <string>

namespace megaswift::config {

class ConfigError : public std::runtime_error {
 public:
  explicit ConfigError(const std::string& message) : std::runtime_error(message) {}
};

}  // namespace megaswift::config
