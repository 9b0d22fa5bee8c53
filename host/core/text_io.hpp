// Text the host reads: a whole (small) file, and a plugin's text answer under the MSW buffer protocol (abi.h).
// Both fail with a HostError naming what was being read.
#pragma once

#include "host/core/status.hpp"

#include <cstdint>
#include <filesystem>
#include <string>

namespace megaswift::host {

// Small text files a user points at (config.json, args.json, generation_config.json) are refused past this size, so a
// wrong path cannot exhaust memory; the largest real ones are a few megabytes.
inline constexpr uint64_t kMaxTextFileBytes = uint64_t{256} << 20;

// The whole regular file (sdk::RegularFile: a FIFO or device is refused, never read); HostError NOT_FOUND naming
// `what` and the path when it does not exist, INVALID_ARGUMENT when it is no regular file or larger than
// `max_bytes`, IO with the errno text when reading fails.
std::string read_text_file(const std::filesystem::path& path, const std::string& what,
                           uint64_t max_bytes = kMaxTextFileBytes);

// call(out, capacity, &needed) asked once for the size and once to fill; *needed counts the NUL.
template <class F>
std::string read_plugin_text(F&& call, const std::string& context) {
  size_t needed = 0;
  throw_if_error(call(nullptr, 0, &needed), context);
  std::string out(needed, '\0');
  throw_if_error(call(out.data(), out.size(), &needed), context);
  out.resize(needed ? needed - 1 : 0);
  return out;
}

}  // namespace megaswift::host
