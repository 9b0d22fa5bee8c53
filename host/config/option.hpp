// What one command-line option is: its name, value type, default, accepted values, help, the
// commands that take it, and the other spellings (aliases) it answers to.
#pragma once

#include "host/config/command.hpp"

#include <nlohmann/json.hpp>

#include <cstddef>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace megaswift::config {

// How a value is written on the command line and stored in args.json:
// boolean -> true/false, integer -> int64, floating -> double, string -> string,
// list -> array of strings (several values after one flag), json -> object given as JSON text.
enum class ValueType { boolean, integer, floating, string, list, json };

std::string_view value_type_name(ValueType type);  // "bool", "int", "float", "str", "list", "json"

// Another spelling of an option, valid for some of the option's commands. The 4.x names of ms-swift
// are aliases: --mcore_model is --load for megatron pt/sft, while swift export has its own --mcore_model.
struct Alias {
  std::string name;
  CommandSet commands;
};

struct OptionSpec {
  std::string name;
  ValueType type = ValueType::string;
  nlohmann::json default_value;  // null means None: unset until derived or given
  std::map<Command, nlohmann::json> command_defaults;  // where one command's default differs
  std::vector<std::string> choices;                    // empty: any value of the type
  // Other accepted spellings of a choice, mapped to the choice ("INFO" -> "info", "20" -> "info").
  std::map<std::string, std::string> choice_synonyms;
  // When set, the value names a plugin of this kind ("optimizer", "parallel", "checkpoint"): `choices`
  // lists the first-party plugins for help, and any name is accepted here, because only the loaded
  // plugins know the full list; the front end checks it against the plugin registry.
  std::string plugin_kind;
  std::optional<double> min;    // inclusive bounds for int and float values
  std::optional<double> max;
  std::size_t max_values = 0;   // lists: most values allowed, 0 = no limit
  std::string group;            // help heading
  std::string help;
  std::string derived;          // how an unset value is derived, for help ("<save>/runs")
  CommandSet commands;
  std::vector<Alias> aliases;

  const nlohmann::json& default_for(Command command) const;
  bool nullable() const { return default_value.is_null(); }
};

// Every option of every command. Built once (see registry()); lookups are by name or alias.
class OptionRegistry {
 public:
  const std::vector<OptionSpec>& options() const { return options_; }
  // Help headings, in the order they are shown.
  const std::vector<std::string>& groups() const { return groups_; }

  // The option with this canonical name, or null.
  const OptionSpec* find(std::string_view name) const;
  // The option that `spelling` (canonical name or alias, without the leading --) means for `command`,
  // or null when the command has no such flag.
  const OptionSpec* lookup(Command command, std::string_view spelling) const;
  // Every spelling `command` accepts (canonical names and aliases), sorted.
  std::vector<std::string> spellings(Command command) const;
  // Which commands take `spelling` in any meaning (empty when no command does).
  CommandSet commands_taking(std::string_view spelling) const;

  // Used by the declarations (options_*.cpp) only.
  void add_group(std::string title);
  OptionSpec& add(OptionSpec spec);
  // Throws std::logic_error when two options of one command share a spelling, a default is outside its
  // own choices or bounds, or an alias is given for a command the option does not take.
  void check_consistency() const;

 private:
  std::vector<OptionSpec> options_;
  std::vector<std::string> groups_;
};

// The registry of Megaswift's options (built on first use, then immutable).
const OptionRegistry& registry();

}  // namespace megaswift::config
