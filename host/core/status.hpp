// msw_status as the host implements it, and the C++ conversions the host uses around plugin calls.
#pragma once

#include <megaswift/c/abi.h>

#include <stdexcept>
#include <string>

struct msw_status {
  int32_t code;
  std::string message;
};

namespace megaswift::host {

msw_status* status_new(int32_t code, const char* message);
void status_free(msw_status* status);

// A failure the host reports to the user; `code` keeps the plugin's classification.
class HostError : public std::runtime_error {
 public:
  HostError(msw_status_code code, const std::string& message) : std::runtime_error(message), code_(code) {}
  msw_status_code code() const noexcept { return code_; }

 private:
  msw_status_code code_;
};

// Throws HostError("<context>: <plugin message>") and frees the status; no-op for NULL.
void throw_if_error(msw_status* status, const std::string& context);

const char* status_code_name(int32_t code);

}  // namespace megaswift::host
