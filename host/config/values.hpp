// Turning command-line text into typed values, checking typed values, and showing them in help.
#pragma once

#include "host/config/option.hpp"

#include <nlohmann/json.hpp>

#include <string>
#include <string_view>
#include <vector>

namespace megaswift::config {

// The value of `spec` given as `tokens` (the words after the flag; empty for a bare flag). `flag` is
// the spelling the user typed, e.g. "--save_steps", so messages name what they wrote.
// Throws ConfigError naming the flag, the value and what the option accepts.
nlohmann::json value_from_tokens(const OptionSpec& spec, std::string_view flag, const std::vector<std::string>& tokens);

// Checks a value that arrives as JSON (args.json, or set by code after reading a model's config) and
// returns it normalized (choice synonyms resolved, ints as floats where the option is float).
// Throws ConfigError naming `where` (e.g. "--lr" or "args.json key 'lr'").
nlohmann::json checked_value(const OptionSpec& spec, std::string_view where, const nlohmann::json& value);

// A value as help shows it: None, true, 1e-05, 1.0, selective, [a, b], {"k": 1}.
std::string display_value(const nlohmann::json& value);

// "a<separator>b<separator>c"; used for choice lists in messages and help.
std::string join(const std::vector<std::string>& items, std::string_view separator);

// The bounds of a number option: "in [0.0, 1.0]", ">= 1", or "" when unbounded.
std::string value_range(const OptionSpec& spec);

// What the option accepts, for messages and help: "one of full, selective", "an integer >= 1", ...
std::string accepted_values(const OptionSpec& spec);

}  // namespace megaswift::config
