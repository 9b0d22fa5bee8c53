#include "host/config/option.hpp"

#include "host/config/error.hpp"
#include "host/config/values.hpp"

#include <algorithm>
#include <map>
#include <set>
#include <stdexcept>

namespace megaswift::config {

std::string_view value_type_name(ValueType type) {
  switch (type) {
    case ValueType::boolean: return "bool";
    case ValueType::integer: return "int";
    case ValueType::floating: return "float";
    case ValueType::string: return "str";
    case ValueType::list: return "list";
    case ValueType::json: return "json";
  }
  return "?";
}

const nlohmann::json& OptionSpec::default_for(Command command) const {
  if (auto it = command_defaults.find(command); it != command_defaults.end()) return it->second;
  return default_value;
}

const OptionSpec* OptionRegistry::find(std::string_view name) const {
  for (const auto& spec : options_)
    if (spec.name == name) return &spec;
  return nullptr;
}

const OptionSpec* OptionRegistry::lookup(Command command, std::string_view spelling) const {
  for (const auto& spec : options_) {
    if (!spec.commands.contains(command)) continue;
    if (spec.name == spelling) return &spec;
    for (const auto& alias : spec.aliases)
      if (alias.name == spelling && alias.commands.contains(command)) return &spec;
  }
  return nullptr;
}

std::vector<std::string> OptionRegistry::spellings(Command command) const {
  std::vector<std::string> out;
  for (const auto& spec : options_) {
    if (!spec.commands.contains(command)) continue;
    out.push_back(spec.name);
    for (const auto& alias : spec.aliases)
      if (alias.commands.contains(command)) out.push_back(alias.name);
  }
  std::sort(out.begin(), out.end());
  return out;
}

CommandSet OptionRegistry::commands_taking(std::string_view spelling) const {
  CommandSet out;
  for (Command c : kAllCommands)
    if (lookup(c, spelling)) out.add(c);
  return out;
}

void OptionRegistry::add_group(std::string title) { groups_.push_back(std::move(title)); }

OptionSpec& OptionRegistry::add(OptionSpec spec) {
  options_.push_back(std::move(spec));
  return options_.back();
}

void OptionRegistry::check_consistency() const {
  std::set<std::string> names;
  for (const auto& spec : options_) {
    auto fail = [&](const std::string& why) { throw std::logic_error("option registry: --" + spec.name + ": " + why); };
    if (!names.insert(spec.name).second) fail("declared twice");
    if (spec.commands.empty()) fail("no command takes it");
    if (spec.help.empty()) fail("no help text");
    if (std::find(groups_.begin(), groups_.end(), spec.group) == groups_.end()) fail("unknown group '" + spec.group + "'");
    for (const auto& alias : spec.aliases)
      for (Command c : alias.commands.list())
        if (!spec.commands.contains(c)) fail("alias --" + alias.name + " given for " + std::string(command_name(c)) + ", which does not take the option");
    for (const auto& [command, value] : spec.command_defaults)
      if (!spec.commands.contains(command)) fail("default given for " + std::string(command_name(command)) + ", which does not take the option");
    try {
      checked_value(spec, "default", spec.default_value);
      for (const auto& [command, value] : spec.command_defaults) checked_value(spec, "default", value);
    } catch (const ConfigError& e) {
      fail(e.what());
    }
  }
  for (Command c : kAllCommands) {
    std::map<std::string, std::string> owner;
    for (const auto& spec : options_) {
      if (!spec.commands.contains(c)) continue;
      std::vector<std::string> spelled{spec.name};
      for (const auto& alias : spec.aliases)
        if (alias.commands.contains(c)) spelled.push_back(alias.name);
      for (const auto& s : spelled) {
        auto [it, inserted] = owner.emplace(s, spec.name);
        if (!inserted)
          throw std::logic_error("option registry: " + std::string(command_name(c)) + " --" + s + " means both --" +
                                 it->second + " and --" + spec.name);
      }
    }
  }
}

}  // namespace megaswift::config
