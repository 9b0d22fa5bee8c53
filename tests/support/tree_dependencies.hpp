// For the suites that test the install tree: every shared library a binary needs must resolve, and each one that
// is not a system library must come from the tree's lib/.
#pragma once

#include "run_command.hpp"

#include <doctest/doctest.h>

#include <filesystem>
#include <regex>
#include <sstream>
#include <string>

namespace megaswift::testing {

// 'path' for the shell. Built by appending: GCC 12 warns (-Wrestrict, a false positive) on "'" + string.
inline std::string shell_quoted(const std::filesystem::path& path) {
  std::string q(1, '\'');
  q.append(path.string()).push_back('\'');
  return q;
}

// Libraries that every Linux machine (and every CUDA machine) provides; everything else must come from the tree.
inline bool is_system_library(const std::string& name) {
  static const std::regex system(
      R"(^(linux-vdso|ld-linux|libc\.|libm\.|libdl\.|librt\.|libpthread\.|libstdc\+\+\.|libgcc_s\.|libcuda\.|libcudart\.|libcublas|libnccl\.|libcudnn))");
  return std::regex_search(name, system);
}

// Every dependency ldd lists is resolved, and each non-system one resolves inside lib_dir.
inline void check_dependencies_resolve_inside(const std::filesystem::path& binary, const std::filesystem::path& lib_dir) {
  INFO("ldd " << binary.string());
  CommandResult r = run_command("env -u LD_LIBRARY_PATH ldd " + shell_quoted(binary));
  REQUIRE(r.status == 0);
  CHECK(r.output.find("not found") == std::string::npos);
  std::istringstream lines(r.output);
  std::string line;
  const std::string lib = std::filesystem::weakly_canonical(lib_dir).string();
  while (std::getline(lines, line)) {
    std::smatch m;
    if (!std::regex_search(line, m, std::regex(R"(^\s*(\S+) => (\S+))"))) continue;
    if (is_system_library(m[1])) continue;
    INFO(line);
    CHECK(std::filesystem::weakly_canonical(std::filesystem::path(m[2].str())).string().rfind(lib, 0) == 0);
  }
}

}  // namespace megaswift::testing
