// The parsed arguments of one command, and the steps that fill them: parse the command line, assign
// values found later (e.g. the model's config.json), resolve derived defaults, validate.
#pragma once

#include "host/config/command.hpp"

#include <nlohmann/json.hpp>

#include <string>
#include <string_view>
#include <vector>

namespace megaswift::config {

struct ParsedArgs {
  Command command = Command::sft;
  // Every option the command accepts, by canonical name; null means None.
  nlohmann::json values = nlohmann::json::object();
  // Canonical names the user gave on the command line, in order.
  std::vector<std::string> explicitly_set;
  // Canonical names set by code through assign() (e.g. from the model's config.json or args.json).
  std::vector<std::string> assigned;
  // Canonical names whose value resolve_derived_defaults() computed; recomputed on each call.
  std::vector<std::string> derived;
  // -h or --help was given: print help_text(command) and stop; `values` then holds the defaults.
  bool help_requested = false;

  bool was_given(std::string_view name) const;     // on the command line
  bool is_fixed(std::string_view name) const;      // given or assigned: derivation leaves it alone
  bool is_none(std::string_view name) const;
  // The value of an option the command accepts; throws std::invalid_argument for other names (a bug).
  const nlohmann::json& at(std::string_view name) const;
  template <class T>
  T get(std::string_view name) const {
    return at(name).template get<T>();
  }
};

// Every accepted option at its default for `command`.
ParsedArgs default_args(Command command);

// Parses the words after the subcommand (`megatron sft --lr 1e-5 ...` -> {"--lr", "1e-5", ...}) in
// ms-swift syntax: --flag value, --flag=value, several values after a list flag, booleans as
// true/false/True/False/1/0 or a bare --flag for true, JSON objects as text; --kebab-case spellings
// are read as snake_case. Throws ConfigError for an unknown flag (naming the closest one), a flag of
// another command (naming the commands that take it), a bad value (naming what is accepted), or a
// non-list flag given twice. Derived defaults are not resolved yet.
ParsedArgs parse_command_line(Command command, const std::vector<std::string>& args);

// Sets an option from code (type-checked like a command-line value); the value then counts as fixed
// for derivation. Throws ConfigError for an unknown option or a bad value.
void assign(ParsedArgs& args, std::string_view name, const nlohmann::json& value);

// Fills every unset option that has a derived default and then validates (see derive.cpp for the
// rules; docs/cli.md lists them). Call again after assign() (e.g. once the model's config.json or
// the dataset size is known): values it derived before are recomputed, given or assigned ones kept.
// Throws ConfigError listing every broken cross-flag rule with the flags involved and the fix.
void resolve_derived_defaults(ParsedArgs& args);

// The cross-flag rules alone (resolve_derived_defaults() runs them).
void validate(const ParsedArgs& args);

}  // namespace megaswift::config
