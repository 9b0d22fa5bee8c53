// Building an example the way a third party would: a fresh CMake build of a project outside the tree with only
// the install prefix visible (CMAKE_PREFIX_PATH), and the checks every out-of-tree plugin must pass.
#pragma once

#include "run_command.hpp"
#include "tree_dependencies.hpp"

#include <doctest/doctest.h>

#include <filesystem>
#include <regex>
#include <string>

namespace megaswift::testing {

// Configures `source` into an emptied `build` against `prefix` alone and builds it (doctest REQUIREs both steps).
inline void build_against_prefix(const std::filesystem::path& source, const std::filesystem::path& build,
                                 const std::filesystem::path& prefix, const std::string& cmake) {
  std::filesystem::remove_all(build);
  const CommandResult c = run_command(cmake + " -S " + shell_quoted(source) + " -B " + shell_quoted(build) +
                                      " -G Ninja -DCMAKE_BUILD_TYPE=Release -DCMAKE_PREFIX_PATH=" + shell_quoted(prefix));
  INFO(c.output);
  REQUIRE(c.status == 0);
  const CommandResult b = run_command(cmake + " --build " + shell_quoted(build));
  INFO(b.output);
  REQUIRE(b.status == 0);
}

// A plugin exports exactly the entry symbol and links no Megaswift library (everything comes through the host table).
inline void check_plugin_is_self_contained(const std::filesystem::path& library) {
  REQUIRE(std::filesystem::exists(library));
  const CommandResult syms = run_command("nm -D --defined-only " + shell_quoted(library));
  CHECK(std::regex_search(syms.output, std::regex(R"(\bmsw_plugin_entry\b)")));
  CHECK_FALSE(std::regex_search(syms.output, std::regex(R"(\bT (?!msw_plugin_entry\b)\w+)")));
  const CommandResult needed = run_command("readelf -d " + shell_quoted(library));
  CHECK(needed.output.find("megaswift") == std::string::npos);
}

}  // namespace megaswift::testing
