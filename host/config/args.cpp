#include "host/config/args.hpp"

#include "host/config/error.hpp"
#include "host/config/option.hpp"
#include "host/config/values.hpp"

#include <algorithm>
#include <stdexcept>

namespace megaswift::config {

static bool contains(const std::vector<std::string>& names, std::string_view name) {
  return std::find(names.begin(), names.end(), name) != names.end();
}

bool ParsedArgs::was_given(std::string_view name) const { return contains(explicitly_set, name); }
bool ParsedArgs::is_fixed(std::string_view name) const { return was_given(name) || contains(assigned, name); }
bool ParsedArgs::is_none(std::string_view name) const { return at(name).is_null(); }

const nlohmann::json& ParsedArgs::at(std::string_view name) const {
  auto it = values.find(std::string(name));
  if (it == values.end())
    throw std::invalid_argument("option --" + std::string(name) + " is not an option of " +
                                std::string(command_name(command)));
  return *it;
}

ParsedArgs default_args(Command command) {
  ParsedArgs args;
  args.command = command;
  for (const auto& spec : registry().options())
    if (spec.commands.contains(command)) args.values[spec.name] = spec.default_for(command);
  return args;
}

void assign(ParsedArgs& args, std::string_view name, const nlohmann::json& value) {
  const OptionSpec* spec = registry().find(name);
  if (!spec || !spec->commands.contains(args.command))
    throw ConfigError("cannot set --" + std::string(name) + ": it is not an option of " +
                      std::string(command_name(args.command)));
  args.values[spec->name] = checked_value(*spec, "--" + spec->name, value);
  std::erase(args.derived, spec->name);
  if (!contains(args.assigned, spec->name)) args.assigned.push_back(spec->name);
}

}  // namespace megaswift::config
