// args.json: the resolved arguments of a run, one key per option (canonical name), null for None.
#pragma once

#include "host/config/args.hpp"

#include <filesystem>

namespace megaswift::config {

nlohmann::json args_to_json(const ParsedArgs& args);

// Reads back what args_to_json wrote for `command`. Keys missing from `json` keep their default (files
// written before an option existed); every key present counts as assigned, so derivation keeps it.
// Throws ConfigError for a key that is not an option of `command` or a value of the wrong type.
ParsedArgs args_from_json(Command command, const nlohmann::json& json);

void write_args_json(const std::filesystem::path& path, const ParsedArgs& args);
ParsedArgs read_args_json(Command command, const std::filesystem::path& path);

}  // namespace megaswift::config
