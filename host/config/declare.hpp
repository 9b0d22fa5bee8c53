// A small fluent builder for the option declarations in options_*.cpp (private to this library).
#pragma once

#include "host/config/option.hpp"

#include <algorithm>
#include <initializer_list>
#include <map>
#include <string>
#include <utility>

namespace megaswift::config::detail {

inline constexpr ValueType Bool = ValueType::boolean;
inline constexpr ValueType Int = ValueType::integer;
inline constexpr ValueType Float = ValueType::floating;
inline constexpr ValueType Str = ValueType::string;
inline constexpr ValueType List = ValueType::list;
inline constexpr ValueType Json = ValueType::json;

// Refines the option just declared; valid until the next declaration.
class OptionRef {
 public:
  explicit OptionRef(OptionSpec& spec) : spec_(spec) {}
  OptionRef& choices(std::initializer_list<const char*> values) {
    spec_.choices.assign(values.begin(), values.end());
    return *this;
  }
  OptionRef& synonyms(std::map<std::string, std::string> map) {
    spec_.choice_synonyms = std::move(map);
    return *this;
  }
  OptionRef& plugin(std::string kind) {
    spec_.plugin_kind = std::move(kind);
    return *this;
  }
  OptionRef& min(double v) {
    spec_.min = v;
    return *this;
  }
  OptionRef& max(double v) {
    spec_.max = v;
    return *this;
  }
  OptionRef& range(double lo, double hi) { return min(lo).max(hi); }
  OptionRef& max_values(std::size_t n) {
    spec_.max_values = n;
    return *this;
  }
  OptionRef& derived(std::string how) {
    spec_.derived = std::move(how);
    return *this;
  }
  // The alias applies to every command of the option unless `only` says otherwise.
  OptionRef& alias(std::string name, CommandSet only = {}) {
    spec_.aliases.push_back({std::move(name), only.empty() ? spec_.commands : only});
    return *this;
  }
  OptionRef& commands(CommandSet set) {
    spec_.commands = set;
    return *this;
  }
  OptionRef& default_for(Command command, nlohmann::json value) {
    spec_.command_defaults[command] = std::move(value);
    return *this;
  }

 private:
  OptionSpec& spec_;
};

class Declarer {
 public:
  explicit Declarer(OptionRegistry& registry) : registry_(registry) {}
  // Following options go under `title` and are taken by `commands` unless they say otherwise.
  void group(std::string title, CommandSet commands) {
    if (std::find(registry_.groups().begin(), registry_.groups().end(), title) == registry_.groups().end())
      registry_.add_group(title);
    group_ = std::move(title);
    commands_ = commands;
  }
  OptionRef flag(std::string name, ValueType type, nlohmann::json default_value, std::string help) {
    OptionSpec spec;
    spec.name = std::move(name);
    spec.type = type;
    spec.default_value = std::move(default_value);
    spec.help = std::move(help);
    spec.group = group_;
    spec.commands = commands_;
    return OptionRef(registry_.add(std::move(spec)));
  }

 private:
  OptionRegistry& registry_;
  std::string group_;
  CommandSet commands_;
};

void declare_basic_options(Declarer& d);     // options_basic.cpp: ms-swift basic options
void declare_megatron_options(Declarer& d);  // options_megatron.cpp: the Megatron parameters of the seed doc
void declare_command_options(Declarer& d);   // options_basic.cpp: export, infer and common options

}  // namespace megaswift::config::detail
