// spdlog setup: every line carries the rank ("[rank 0]") so interleaved multi-process logs stay readable.
#pragma once

#include <megaswift/c/abi.h>

#include <string>

namespace megaswift::host {

// Configures the default logger for this process. `level` is a --logging_level value (trace, debug,
// info, warn/warning, error, critical; case-insensitive; empty = info). Throws std::invalid_argument
// naming the accepted values for anything else.
void init_logging(int rank, const std::string& level);

// Maps a --logging_level value to msw_log_level; throws std::invalid_argument on unknown names.
msw_log_level parse_log_level(const std::string& level);

// The host's implementation of msw_host_api.log / log_threshold.
void log_from_plugin(int32_t level, const char* component, const char* message);
int32_t current_log_threshold();

}  // namespace megaswift::host
