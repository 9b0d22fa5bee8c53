// Logging from a plugin through the host's logger (one line per call, rank-prefixed by the host).
#pragma once

#include <megaswift/sdk/status.hpp>

#include <string>

namespace megaswift::sdk {

inline bool log_enabled(msw_log_level level) {
  const msw_host_api* h = detail::g_host;
  if (!h) return false;
  if (!MSW_HOST_HAS(log_threshold)) return true;
  return level >= h->log_threshold();
}

inline void log(msw_log_level level, const char* component, const std::string& message) {
  if (log_enabled(level)) detail::g_host->log(level, component, message.c_str());
}
inline void log_debug(const char* component, const std::string& m) { log(MSW_LOG_DEBUG, component, m); }
inline void log_info(const char* component, const std::string& m) { log(MSW_LOG_INFO, component, m); }
inline void log_warn(const char* component, const std::string& m) { log(MSW_LOG_WARN, component, m); }
inline void log_error(const char* component, const std::string& m) { log(MSW_LOG_ERROR, component, m); }

}  // namespace megaswift::sdk
