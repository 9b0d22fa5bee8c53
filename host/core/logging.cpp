#include "host/core/logging.hpp"

#include "host/core/printable.hpp"

#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <stdexcept>

namespace megaswift::host {

msw_log_level parse_log_level(const std::string& level) {
  std::string l = level;
  std::transform(l.begin(), l.end(), l.begin(), [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  if (l.empty() || l == "info") return MSW_LOG_INFO;
  if (l == "trace") return MSW_LOG_TRACE;
  if (l == "debug") return MSW_LOG_DEBUG;
  if (l == "warn" || l == "warning") return MSW_LOG_WARN;
  if (l == "error") return MSW_LOG_ERROR;
  if (l == "critical" || l == "fatal") return MSW_LOG_CRITICAL;
  throw std::invalid_argument("--logging_level: '" + level +
                              "' is not one of trace, debug, info, warning, error, critical");
}

static spdlog::level::level_enum to_spdlog(int32_t level) {
  switch (level) {
    case MSW_LOG_TRACE: return spdlog::level::trace;
    case MSW_LOG_DEBUG: return spdlog::level::debug;
    case MSW_LOG_INFO: return spdlog::level::info;
    case MSW_LOG_WARN: return spdlog::level::warn;
    case MSW_LOG_ERROR: return spdlog::level::err;
    default: return spdlog::level::critical;
  }
}

void init_logging(int rank, const std::string& level) {
  // Logs go to stderr so that stdout stays clean for command output (plugin lists, inference text).
  spdlog::drop("megaswift");
  auto logger = spdlog::stderr_color_mt("megaswift");
  logger->set_pattern("[%Y-%m-%d %H:%M:%S.%e] [rank " + std::to_string(rank) + "] [%^%l%$] %v");
  logger->set_level(to_spdlog(parse_log_level(level)));
  spdlog::set_default_logger(logger);
}

void log_from_plugin(int32_t level, const char* component, const char* message) {
  // A plugin's text is escaped: a newline in it would forge a log line, an ANSI escape repaint the terminal.
  const std::string text = printable(message ? message : "");
  if (component && *component)
    spdlog::log(to_spdlog(level), "[{}] {}", printable(component), text);
  else
    spdlog::log(to_spdlog(level), "{}", text);
}

int32_t current_log_threshold() {
  switch (spdlog::get_level()) {
    case spdlog::level::trace: return MSW_LOG_TRACE;
    case spdlog::level::debug: return MSW_LOG_DEBUG;
    case spdlog::level::info: return MSW_LOG_INFO;
    case spdlog::level::warn: return MSW_LOG_WARN;
    case spdlog::level::err: return MSW_LOG_ERROR;
    default: return MSW_LOG_CRITICAL;
  }
}

}  // namespace megaswift::host
