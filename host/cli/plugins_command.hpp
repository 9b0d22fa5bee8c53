// `megatron plugins`: every component the host can load, with kind, name, version, ABI and library,
// and the libraries it refused and why.
#pragma once

#include <string>
#include <vector>

namespace megaswift::cli {

int run_plugins_command(const std::vector<std::string>& args);

}  // namespace megaswift::cli
