#include "host/config/help.hpp"

#include "host/config/option.hpp"
#include "host/config/values.hpp"

#include <sstream>

namespace megaswift::config {
namespace {

constexpr std::size_t kWidth = 100;
constexpr const char* kSyntax =
    "Flags use ms-swift syntax: --flag value or --flag=value; list flags take several values (--dataset a b c); "
    "booleans take true or false (True/False/1/0 too, and a bare --flag means true); JSON flags take an object in "
    "single quotes. Megatron's --kebab-case spellings work too. A flag may be given once, except list flags, whose "
    "values add up.";

// Greedy word wrap; every line starts with `indent`.
std::string wrap(std::string_view text, std::size_t indent) {
  std::istringstream words{std::string(text)};
  std::string out, line, word;
  const std::string pad(indent, ' ');
  while (words >> word) {
    if (!line.empty() && pad.size() + line.size() + 1 + word.size() > kWidth) {
      out += pad + line + "\n";
      line.clear();
    }
    line += (line.empty() ? "" : " ") + word;
  }
  if (!line.empty()) out += pad + line + "\n";
  return out;
}

std::string metavar(const OptionSpec& spec) {
  switch (spec.type) {
    case ValueType::boolean: return "true|false";
    case ValueType::integer: return "INT";
    case ValueType::floating: return "FLOAT";
    case ValueType::list: return "VALUE [VALUE ...]";
    case ValueType::json: return "JSON";
    case ValueType::string:
      if (!spec.plugin_kind.empty()) return "NAME";
      if (!spec.choices.empty()) {
        std::string out(1, '{');
        out += join(spec.choices, ",");
        out += '}';
        return out;
      }
      return "STR";
  }
  return "VALUE";
}

std::vector<std::string> alias_names(const OptionSpec& spec, Command command) {
  std::vector<std::string> out;
  for (const auto& alias : spec.aliases)
    if (alias.commands.contains(command)) out.push_back(alias.name);
  return out;
}

std::string default_sentence(const OptionSpec& spec, Command command) {
  const nlohmann::json& value = spec.default_for(command);
  std::string out = "Default: ";
  if (spec.derived.empty()) out += display_value(value);
  else if (value.is_null()) out += spec.derived;
  else out += display_value(value) + "; " + spec.derived;
  out += ".";
  if (!spec.plugin_kind.empty())
    out += " First-party " + spec.plugin_kind + " plugins: " + join(spec.choices, ", ") +
           "; any loaded plugin's name works.";
  if (spec.min || spec.max) out += " Accepts " + accepted_values(spec) + ".";
  if (spec.type == ValueType::list && spec.max_values) out += " At most " + std::to_string(spec.max_values) + " values.";
  return out;
}

std::string md_escape(std::string_view text) {
  std::string out;
  for (char c : text) {
    if (c == '|') out += "\\|";
    else if (c == '<') out += "&lt;";
    else if (c == '>') out += "&gt;";
    else out += c;
  }
  return out;
}

std::string md_code(std::string_view text) {
  std::string out(1, '`');
  out.append(text);
  out += '`';
  return out;
}

std::string md_default(const OptionSpec& spec) {
  std::string out = md_code(display_value(spec.default_value));
  for (const auto& [command, value] : spec.command_defaults)
    out += " (" + std::string(command_key(command)) + ": " + md_code(display_value(value)) + ")";
  if (!spec.derived.empty()) {
    if (spec.default_value.is_null()) out = md_escape(spec.derived);
    else out += "; " + md_escape(spec.derived);
  }
  return out;
}

std::string md_type(const OptionSpec& spec) {
  std::string out(value_type_name(spec.type));
  if (!spec.choices.empty()) {
    std::vector<std::string> coded;
    for (const auto& c : spec.choices) coded.push_back(md_code(c));
    out += spec.plugin_kind.empty() ? ": " : " (" + spec.plugin_kind + " plugin): ";
    out += join(coded, ", ");
    if (!spec.plugin_kind.empty()) out += ", …";
  }
  if (spec.min || spec.max) out += ", " + md_escape(value_range(spec));
  if (spec.type == ValueType::list && spec.max_values) out += ", at most " + std::to_string(spec.max_values);
  return out;
}

std::string md_flag(const OptionSpec& spec) {
  std::string out = md_code("--" + spec.name);
  for (const auto& alias : spec.aliases) {
    out += "<br>alias " + md_code("--" + alias.name);
    if (alias.commands != spec.commands) out += " (" + alias.commands.keys() + ")";
  }
  return out;
}

}  // namespace

std::string help_text(Command command) {
  std::string out = "usage: " + std::string(command_name(command)) + " [--flag value ...]\n\n";
  out += wrap(command_summary(command), 0) + "\n" + wrap(kSyntax, 0);
  for (const auto& group : registry().groups()) {
    std::string section;
    for (const auto& spec : registry().options()) {
      if (spec.group != group || !spec.commands.contains(command)) continue;
      std::string head = "  --";
      head += spec.name;
      head += ' ';
      head += metavar(spec);
      const auto aliases = alias_names(spec, command);
      if (!aliases.empty()) head += "  (alias --" + join(aliases, ", --") + ")";
      section += head + "\n" + wrap(spec.help + " " + default_sentence(spec, command), 6);
    }
    if (!section.empty()) out += "\n" + group + ":\n" + section;
  }
  return out;
}

std::string cli_markdown() {
  std::string out;
  out += "# Command-line reference\n\n";
  out += "<!-- Generated from the option registry (host/config/) by msw_gen_cli_doc; do not edit by hand.\n"
         "     Regenerate: ninja -C <build> msw_gen_cli_doc && <build>/bin/msw_gen_cli_doc docs/cli.md -->\n\n";
  out += "Megaswift's commands take the flags and defaults of Megatron-SWIFT, including the ms-swift 4.x names of "
         "the same flags as aliases. Each command rejects flags it does not use and names the commands that take "
         "them.\n\n";
  out += "| command | what it does |\n| --- | --- |\n";
  for (Command c : kAllCommands)
    out += "| " + md_code(command_name(c)) + " | " + md_escape(command_summary(c)) + " |\n";
  out += "\n## Syntax\n\n" + std::string(kSyntax) + " `-h`/`--help` prints the flags of one command.\n\n";
  out += "## Derived defaults\n\n"
         "An option left unset takes the value derived from others, as the default column says. All derivations are "
         "made in one place, `resolve_derived_defaults` (host/config/derive.cpp), after parsing and again when the "
         "model's config.json or the dataset size becomes known. A value you give always wins; a contradiction "
         "(e.g. `--torch_dtype bfloat16 --fp16 true`) is an error that names both flags.\n\n";
  out += "## Options\n\n"
         "Commands: `pt` = `megatron pt`, `sft` = `megatron sft`, `export` = `swift export`, `infer` = `swift "
         "infer`. `None` means unset.\n";
  for (const auto& group : registry().groups()) {
    out += "\n### " + group + "\n\n| flag | type | default | commands | description |\n| --- | --- | --- | --- | --- |\n";
    for (const auto& spec : registry().options()) {
      if (spec.group != group) continue;
      out += "| " + md_flag(spec) + " | " + md_type(spec) + " | " + md_default(spec) + " | " + spec.commands.keys() +
             " | " + md_escape(spec.help) + " |\n";
    }
  }
  return out;
}

}  // namespace megaswift::config
