// Hostile flag values (issue 12): the --global_batch_size suggestion is computed in checked arithmetic, so a value
// near INT64_MAX gets a valid multiple (the one below) instead of a wrapped, negative suggestion.
#include "host/config/config.hpp"
#include "host/config/error.hpp"

#include <doctest/doctest.h>

#include <string>
#include <vector>

using namespace megaswift::config;

namespace {

std::string sft_problems(std::vector<std::string> extra) {
  std::vector<std::string> args{"--model", "m", "--dataset", "d", "--train_iters", "100"};
  args.insert(args.end(), extra.begin(), extra.end());
  ParsedArgs parsed = parse_command_line(Command::sft, args);
  try {
    resolve_derived_defaults(parsed);
  } catch (const ConfigError& e) {
    return e.what();
  }
  return "";
}

}  // namespace

TEST_CASE("a --global_batch_size near INT64_MAX gets the multiple below, not a wrapped suggestion") {
  const std::string problems = sft_problems({"--micro_batch_size", "2", "--global_batch_size", "9223372036854775807"});
  CHECK(problems.find("--global_batch_size 9223372036854775807 is not a multiple of --micro_batch_size 2; use e.g. "
                      "--global_batch_size 9223372036854775806") != std::string::npos);
  CHECK(problems.find("--global_batch_size -") == std::string::npos);
}

TEST_CASE("a --micro_batch_size above --global_batch_size suggests the micro batch size itself") {
  const std::string problems = sft_problems({"--micro_batch_size", "9223372036854775807", "--global_batch_size", "3"});
  CHECK(problems.find("use e.g. --global_batch_size 9223372036854775807") != std::string::npos);
}
