// Exceptions inside a plugin, statuses across the boundary.
//
// Plugin code throws megaswift::sdk::Error (or any std::exception); the trampolines the SDK generates
// catch everything with guard() and hand the host a msw_status*. In the other direction, check()
// turns a status the host returned into an Error and frees it. Header-only, C++17.
#pragma once

#include <megaswift/c/abi.h>
#include <megaswift/c/host.h>

#include <new>
#include <stdexcept>
#include <string>
#include <utility>

namespace megaswift::sdk {

namespace detail {
// The host table this plugin was loaded with; set once by the generated entry symbol. Each plugin
// library has its own copy (hidden visibility), which is what we want.
inline const msw_host_api* g_host = nullptr;
}  // namespace detail

// The host table; valid once the plugin's entry symbol has run.
inline const msw_host_api& host() {
  if (!detail::g_host) throw std::logic_error("megaswift SDK used before msw_plugin_entry ran");
  return *detail::g_host;
}

// True when the host was built with the table entry at `offset` (a newer-minor entry).
inline bool host_has(size_t offset_of_entry) {
  return detail::g_host && detail::g_host->struct_size > offset_of_entry;
}
#define MSW_HOST_HAS(member) (::megaswift::sdk::host_has(offsetof(msw_host_api, member)))

class Error : public std::runtime_error {
 public:
  Error(msw_status_code code, const std::string& message) : std::runtime_error(message), code_(code) {}
  msw_status_code code() const noexcept { return code_; }

 private:
  msw_status_code code_;
};

// Converts whatever `f` throws into a status owned by the caller; NULL when it returns normally.
template <class F>
msw_status* guard(F&& f) noexcept {
  try {
    std::forward<F>(f)();
    return nullptr;
  } catch (const Error& e) {
    return detail::g_host->status_new(e.code(), e.what());
  } catch (const std::bad_alloc&) {
    return detail::g_host->status_new(MSW_STATUS_OUT_OF_MEMORY, "out of host memory in plugin");
  } catch (const std::invalid_argument& e) {
    return detail::g_host->status_new(MSW_STATUS_INVALID_ARGUMENT, e.what());
  } catch (const std::exception& e) {
    return detail::g_host->status_new(MSW_STATUS_INTERNAL, e.what());
  } catch (...) {
    return detail::g_host->status_new(MSW_STATUS_INTERNAL, "unknown exception in plugin");
  }
}

namespace detail {
// Reports an exception that an entry returning a plain value (a count, an id, a string) had to swallow:
// such entries cannot return a status, so the message goes to the host's log instead of being lost.
inline void log_swallowed(const char* entry, const char* what) noexcept {
  try {
    if (detail::g_host && detail::g_host->log)
      detail::g_host->log(MSW_LOG_ERROR, nullptr, (std::string(entry) + " threw: " + what).c_str());
  } catch (...) {
  }
}
}  // namespace detail

// For entries that return a plain value instead of a status: returns what `f` returns, or `fallback`
// (the entry's documented "nothing": -1, 0, NULL) when it throws, logging the exception. An exception
// must never cross the C boundary, where it would reach std::terminate.
template <class R, class F>
R guard_value(R fallback, const char* entry, F&& f) noexcept {
  try {
    return std::forward<F>(f)();
  } catch (const std::exception& e) {
    detail::log_swallowed(entry, e.what());
  } catch (...) {
    detail::log_swallowed(entry, "an exception that is not a std::exception");
  }
  return fallback;
}

// Throws an Error carrying the status's code and message, and frees the status; no-op for NULL.
// The host table is named explicitly on the caller side (the host and tests hold one; host() is the
// plugin's own).
inline void check(msw_status* status, const msw_host_api& h) {
  if (!status) return;
  Error error(static_cast<msw_status_code>(h.status_code(status)), h.status_message(status));
  h.status_free(status);
  throw error;
}
inline void check(msw_status* status) {
  if (status) check(status, host());
}

// RAII owner for a status a plugin receives and wants to inspect rather than rethrow.
class Status {
 public:
  Status() = default;
  explicit Status(msw_status* s) : s_(s) {}
  Status(Status&& o) noexcept : s_(std::exchange(o.s_, nullptr)) {}
  Status& operator=(Status&& o) noexcept {
    if (this != &o) reset(std::exchange(o.s_, nullptr));
    return *this;
  }
  Status(const Status&) = delete;
  Status& operator=(const Status&) = delete;
  ~Status() { reset(); }

  bool ok() const { return s_ == nullptr; }
  msw_status_code code() const {
    return s_ ? static_cast<msw_status_code>(host().status_code(s_)) : MSW_STATUS_OK;
  }
  std::string message() const { return s_ ? host().status_message(s_) : ""; }
  msw_status* release() { return std::exchange(s_, nullptr); }
  void reset(msw_status* s = nullptr) {
    if (s_) host().status_free(s_);
    s_ = s;
  }

 private:
  msw_status* s_ = nullptr;
};

}  // namespace megaswift::sdk
