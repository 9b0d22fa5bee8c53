// What `megatron` and `swift` share: subcommand dispatch, error reporting and exit codes.
#pragma once

#include <functional>
#include <string>
#include <string_view>
#include <vector>

namespace megaswift::cli {

// Exit codes: 0 success, 1 a run failed, 2 bad usage (unknown flag, bad value), 3 the requested stage
// is not part of this build yet.
enum ExitCode : int { kOk = 0, kFailed = 1, kUsage = 2, kNotBuilt = 3 };

struct Subcommand {
  std::string name;
  std::string summary;
  std::function<int(const std::vector<std::string>& args)> run;
};

// Runs `program <subcommand> args...`; prints errors as "<program> <subcommand>: error: ..." on stderr.
int run_frontend(std::string_view program, int argc, char** argv, const std::vector<Subcommand>& subcommands);

}  // namespace megaswift::cli
