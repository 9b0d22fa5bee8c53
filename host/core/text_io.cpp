#include "host/core/text_io.hpp"

#include <megaswift/sdk/regular_file.hpp>

namespace megaswift::host {

std::string read_text_file(const std::filesystem::path& path, const std::string& what, uint64_t max_bytes) {
  try {
    return sdk::read_regular_file(path.string(), what, max_bytes);
  } catch (const sdk::Error& e) {  // callers (and their callers' catch clauses) expect the host's error type
    throw HostError(e.code(), e.what());
  }
}

}  // namespace megaswift::host
