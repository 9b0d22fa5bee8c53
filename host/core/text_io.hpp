// Text the host reads: a whole (small) file, and a plugin's text answer under the MSW buffer protocol (abi.h).
// Both fail with a HostError naming what was being read.
#pragma once

#include "host/core/status.hpp"

#include <filesystem>
#include <string>

namespace megaswift::host {

// The whole file; NOT_FOUND naming `what` and the path when it cannot be opened.
std::string read_text_file(const std::filesystem::path& path, const std::string& what);

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
