// Command-line parsing on Boost.Program_options. Program_options splits the words into flags and
// their values (every flag is declared to take zero or more values, so `--dataset a b c`, a bare
// `--finetune` and `--lr=1e-5` all tokenize); the registry then types and checks each value.
#include "host/config/args.hpp"

#include "host/config/error.hpp"
#include "host/config/option.hpp"
#include "host/config/suggest.hpp"
#include "host/config/values.hpp"
#include "host/core/printable.hpp"

#include <boost/program_options.hpp>

#include <algorithm>
#include <map>
#include <string_view>

namespace po = boost::program_options;

namespace megaswift::config {
namespace {

// Megatron-LM spells flags --like-this; ms-swift --like_this. Read both as the latter.
std::vector<std::string> snake_case_flags(const std::vector<std::string>& args) {
  std::vector<std::string> out;
  out.reserve(args.size());
  for (std::string word : args) {
    if (word.size() > 2 && word.starts_with("--")) {
      const auto end = std::min(word.find('='), word.size());
      std::replace(word.begin() + 2, word.begin() + static_cast<std::ptrdiff_t>(end), '-', '_');
    }
    out.push_back(std::move(word));
  }
  return out;
}

po::options_description flags_of(Command command) {
  po::options_description desc;
  for (const auto& spelling : registry().spellings(command))
    desc.add_options()(spelling.c_str(), po::value<std::vector<std::string>>()->multitoken()->zero_tokens());
  return desc;
}

// The name is escaped: a control character typed by mistake (or pasted) must not reach the terminal raw.
[[noreturn]] void unknown_flag(Command command, const std::string& raw_name) {
  const std::string name = host::printable(raw_name);
  const CommandSet takers = registry().commands_taking(raw_name);
  if (!takers.empty())
    throw ConfigError("--" + name + " is not a flag of " + std::string(command_name(command)) +
                      "; it is taken by " + takers.names());
  throw ConfigError("unknown flag --" + name + " for " + std::string(command_name(command)) + "; did you mean --" +
                    closest(raw_name, registry().spellings(command)) + "? (" + std::string(command_name(command)) +
                    " --help lists every flag)");
}

// Arguments are recorded in args.json and checkpoints, which hold UTF-8 only; a path of other bytes (legal on
// Linux) is refused here, naming the flag, instead of failing later inside the JSON library.
void require_utf8(const std::string& flag, const std::vector<std::string>& tokens) {
  for (const std::string& token : tokens) {
    const size_t bad = host::first_invalid_utf8(token);
    if (bad == std::string_view::npos) continue;
    throw ConfigError(flag + " '" + host::printable(token) + "': byte " + std::to_string(bad) +
                      " is not valid UTF-8; Megaswift records its arguments as UTF-8 JSON, so rename the file or "
                      "directory (or fix the value) to UTF-8 and pass that");
  }
}

}  // namespace

ParsedArgs parse_command_line(Command command, const std::vector<std::string>& raw_args) {
  ParsedArgs args = default_args(command);
  if (std::any_of(raw_args.begin(), raw_args.end(), [](const auto& w) { return w == "-h" || w == "--help"; })) {
    args.help_requested = true;
    return args;
  }

  const po::options_description desc = flags_of(command);
  po::parsed_options parsed(&desc);
  try {
    // Long flags only and no prefix guessing: "-1" stays a value, "--lr" never means "--lr_decay_style".
    const int style = po::command_line_style::allow_long | po::command_line_style::long_allow_adjacent |
                      po::command_line_style::long_allow_next;
    parsed = po::command_line_parser(snake_case_flags(raw_args)).options(desc).style(style).allow_unregistered().run();
  } catch (const po::error& e) {
    throw ConfigError(std::string(command_name(command)) + ": " + e.what());
  }

  std::map<std::string, std::string> spelling_of;  // canonical name -> spelling the user used
  for (const auto& option : parsed.options) {
    if (option.string_key.empty())
      throw ConfigError("unexpected argument '" + host::printable(option.value.front()) + "' for " + std::string(command_name(command)) +
                        ": every value follows its --flag (e.g. --dataset a b)");
    if (option.unregistered) unknown_flag(command, option.string_key);

    const OptionSpec* spec = registry().lookup(command, option.string_key);
    if (!spec) unknown_flag(command, option.string_key);
    const std::string flag = "--" + option.string_key;
    require_utf8(flag, option.value);
    nlohmann::json value = value_from_tokens(*spec, flag, option.value);

    auto [previous, first_time] = spelling_of.emplace(spec->name, flag);
    if (first_time) {
      args.values[spec->name] = std::move(value);
      args.explicitly_set.push_back(spec->name);
    } else if (spec->type == ValueType::list) {
      for (auto& item : value) args.values[spec->name].push_back(std::move(item));
    } else {
      const std::string also = previous->second == flag ? "" : " (as " + previous->second + ")";
      throw ConfigError(flag + " is given twice" + also + "; give it once");
    }
  }
  return args;
}

}  // namespace megaswift::config
