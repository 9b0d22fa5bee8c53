#include "host/config/args_json.hpp"

#include "host/config/error.hpp"
#include "host/config/option.hpp"
#include "host/config/values.hpp"

#include <cerrno>
#include <cstring>
#include <fstream>

namespace megaswift::config {

nlohmann::json args_to_json(const ParsedArgs& args) { return args.values; }

ParsedArgs args_from_json(Command command, const nlohmann::json& json) {
  if (!json.is_object()) throw ConfigError("args.json must hold a JSON object, found: " + std::string(json.type_name()));
  ParsedArgs args = default_args(command);
  for (const auto& [key, value] : json.items()) {
    const OptionSpec* spec = registry().find(key);
    if (!spec) throw ConfigError("args.json: '" + key + "' is not a Megaswift option");
    if (!spec->commands.contains(command))
      throw ConfigError("args.json: '" + key + "' is an option of " + spec->commands.names() + ", not of " +
                        std::string(command_name(command)));
    args.values[key] = checked_value(*spec, "args.json key '" + key + "'", value);
    args.assigned.push_back(key);
  }
  return args;
}

void write_args_json(const std::filesystem::path& path, const ParsedArgs& args) {
  std::ofstream out(path);
  if (out) out << args_to_json(args).dump(2) << '\n';
  if (!out) throw ConfigError("cannot write " + path.string() + ": " + std::strerror(errno));
}

ParsedArgs read_args_json(Command command, const std::filesystem::path& path) {
  std::ifstream in(path);
  if (!in) throw ConfigError("cannot read " + path.string() + ": " + std::strerror(errno));
  nlohmann::json json;
  try {
    json = nlohmann::json::parse(in);
  } catch (const nlohmann::json::exception& e) {
    throw ConfigError(path.string() + " is not valid JSON: " + e.what());
  }
  return args_from_json(command, json);
}

}  // namespace megaswift::config
