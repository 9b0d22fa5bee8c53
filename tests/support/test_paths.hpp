// Where a test finds the source tree (fixtures) and the build tree (plugins, binaries): where they were at build
// time, or MEGASWIFT_TEST_SOURCE_DIR / MEGASWIFT_TEST_BINARY_DIR when the trees were moved (a copy run on another
// machine, such as the GPU machine).
#pragma once

#include <cstdlib>
#include <filesystem>

namespace megaswift::testing {

inline std::filesystem::path source_dir() {
  const char* moved = std::getenv("MEGASWIFT_TEST_SOURCE_DIR");
  return moved && *moved ? moved : MSW_TEST_SOURCE_DIR;
}
inline std::filesystem::path binary_dir() {
  const char* moved = std::getenv("MEGASWIFT_TEST_BINARY_DIR");
  return moved && *moved ? moved : MSW_TEST_BINARY_DIR;
}
// The folder the build puts first-party plugins into (<build>/lib/megaswift/plugins).
inline std::filesystem::path plugin_dir() { return binary_dir() / "lib" / "megaswift" / "plugins"; }

}  // namespace megaswift::testing
