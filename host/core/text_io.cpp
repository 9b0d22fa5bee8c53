#include "host/core/text_io.hpp"

#include <fstream>
#include <sstream>

namespace megaswift::host {

std::string read_text_file(const std::filesystem::path& path, const std::string& what) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw HostError(MSW_STATUS_NOT_FOUND, what + " " + path.string() + " does not exist or cannot be read");
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

}  // namespace megaswift::host
