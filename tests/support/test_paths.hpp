// Where a test finds the source tree (fixtures) and the build tree (plugins, binaries).
#pragma once

#include <filesystem>

namespace megaswift::testing {

inline std::filesystem::path source_dir() { return MSW_TEST_SOURCE_DIR; }
inline std::filesystem::path binary_dir() { return MSW_TEST_BINARY_DIR; }
// The folder the build puts first-party plugins into (<build>/lib/megaswift/plugins).
inline std::filesystem::path plugin_dir() { return binary_dir() / "lib" / "megaswift" / "plugins"; }

}  // namespace megaswift::testing
