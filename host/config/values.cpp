#include "host/config/values.hpp"

#include "host/config/error.hpp"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdint>

namespace megaswift::config {
namespace {

std::string lower(std::string_view text) {
  std::string out(text);
  std::transform(out.begin(), out.end(), out.begin(), [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return out;
}

std::string in_quotes(std::string_view text) { return "'" + std::string(text) + "'"; }

std::string format_number(double value) {
  char buffer[64];
  auto result = std::to_chars(buffer, buffer + sizeof buffer, value);
  std::string text(buffer, result.ptr);
  // Show floats as floats, so "1.0" says the option takes fractions.
  if (text.find_first_of(".en") == std::string::npos) text += ".0";
  return text;
}

[[noreturn]] void bad_value(std::string_view flag, std::string_view value, const OptionSpec& spec) {
  throw ConfigError(std::string(flag) + ": " + in_quotes(value) + " is not " + accepted_values(spec));
}

void check_bounds(const OptionSpec& spec, std::string_view flag, std::string_view text, double value) {
  if ((spec.min && value < *spec.min) || (spec.max && value > *spec.max))
    throw ConfigError(std::string(flag) + ": " + in_quotes(text) + " is out of range; it accepts " + accepted_values(spec));
}

std::string resolve_choice(const OptionSpec& spec, std::string_view flag, const std::string& text) {
  if (spec.choices.empty() || !spec.plugin_kind.empty()) return text;
  if (std::find(spec.choices.begin(), spec.choices.end(), text) != spec.choices.end()) return text;
  if (auto it = spec.choice_synonyms.find(text); it != spec.choice_synonyms.end()) return it->second;
  throw ConfigError(std::string(flag) + ": " + in_quotes(text) + " is not one of " + join(spec.choices, ", "));
}

bool parse_bool(std::string_view flag, std::string_view text) {
  const std::string l = lower(text);
  if (l == "true" || l == "1") return true;
  if (l == "false" || l == "0") return false;
  throw ConfigError(std::string(flag) + ": " + in_quotes(text) + " is not a boolean; write true or false (True/False/1/0 also work)");
}

std::int64_t parse_int(const OptionSpec& spec, std::string_view flag, std::string_view text) {
  std::string_view digits = text;
  if (!digits.empty() && digits.front() == '+') digits.remove_prefix(1);
  std::int64_t value = 0;
  auto [ptr, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), value);
  if (digits.empty() || ec != std::errc() || ptr != digits.data() + digits.size()) bad_value(flag, text, spec);
  check_bounds(spec, flag, text, static_cast<double>(value));
  return value;
}

double parse_float(const OptionSpec& spec, std::string_view flag, std::string_view text) {
  std::string_view digits = text;
  if (!digits.empty() && digits.front() == '+') digits.remove_prefix(1);
  double value = 0;
  auto [ptr, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), value);
  if (digits.empty() || ec != std::errc() || ptr != digits.data() + digits.size() || !std::isfinite(value))
    bad_value(flag, text, spec);
  check_bounds(spec, flag, text, value);
  return value;
}

nlohmann::json parse_json_object(std::string_view flag, std::string_view text) {
  nlohmann::json value;
  try {
    value = nlohmann::json::parse(text);
  } catch (const nlohmann::json::exception& e) {
    std::string what = e.what();
    // Drop nlohmann's "[json.exception.parse_error.101] " tag; the rest says where and why.
    if (auto close = what.find("] "); close != std::string::npos) what = what.substr(close + 2);
    throw ConfigError(std::string(flag) + ": " + in_quotes(text) + " is not valid JSON (" + what +
                      "); pass a JSON object in single quotes, e.g. '{\"key\": \"value\"}'");
  }
  if (!value.is_object())
    throw ConfigError(std::string(flag) + ": " + in_quotes(text) + " is JSON but not an object; pass a JSON object, e.g. '{\"key\": \"value\"}'");
  return value;
}

}  // namespace

std::string join(const std::vector<std::string>& items, std::string_view separator) {
  std::string out;
  for (const auto& item : items) {
    if (!out.empty()) out += separator;
    out += item;
  }
  return out;
}

std::string value_range(const OptionSpec& spec) {
  auto show = [&](double v) {
    return spec.type == ValueType::integer ? std::to_string(static_cast<std::int64_t>(v)) : format_number(v);
  };
  if (spec.min && spec.max) return "in [" + show(*spec.min) + ", " + show(*spec.max) + "]";
  if (spec.min) return ">= " + show(*spec.min);
  if (spec.max) return "<= " + show(*spec.max);
  return "";
}

std::string accepted_values(const OptionSpec& spec) {
  auto range = [&](std::string out) {
    const std::string limits = value_range(spec);
    return limits.empty() ? out : out + " " + limits;
  };
  switch (spec.type) {
    case ValueType::boolean: return "a boolean (true or false)";
    case ValueType::integer: return range("an integer");
    case ValueType::floating: return range("a number");
    case ValueType::json: return "a JSON object";
    case ValueType::list:
      return spec.max_values ? "at most " + std::to_string(spec.max_values) + " values" : "one or more values";
    case ValueType::string:
      if (!spec.choices.empty() && spec.plugin_kind.empty()) return "one of " + join(spec.choices, ", ");
      if (!spec.plugin_kind.empty()) return "the name of a " + spec.plugin_kind + " plugin";
      return "a string";
  }
  return "a value";
}

nlohmann::json value_from_tokens(const OptionSpec& spec, std::string_view flag, const std::vector<std::string>& tokens) {
  if (spec.type == ValueType::boolean) {
    if (tokens.empty()) return true;  // a bare --flag means true
    if (tokens.size() > 1)
      throw ConfigError(std::string(flag) + " takes one value (true or false) but got " + std::to_string(tokens.size()) +
                        ": " + join(tokens, " "));
    return parse_bool(flag, tokens.front());
  }
  if (spec.type == ValueType::list) {
    if (tokens.empty()) throw ConfigError(std::string(flag) + " needs at least one value");
    if (spec.max_values && tokens.size() > spec.max_values)
      throw ConfigError(std::string(flag) + " takes at most " + std::to_string(spec.max_values) + " values but got " +
                        std::to_string(tokens.size()) + ": " + join(tokens, " "));
    return nlohmann::json(tokens);
  }
  if (tokens.empty()) throw ConfigError(std::string(flag) + " needs a value: " + accepted_values(spec));
  if (tokens.size() > 1)
    throw ConfigError(std::string(flag) + " takes one value but got " + std::to_string(tokens.size()) + ": " +
                      join(tokens, " ") + " (quote a value that contains spaces)");
  const std::string& text = tokens.front();
  switch (spec.type) {
    case ValueType::integer: return parse_int(spec, flag, text);
    case ValueType::floating: return parse_float(spec, flag, text);
    case ValueType::json: return parse_json_object(flag, text);
    case ValueType::string: return resolve_choice(spec, flag, text);
    default: break;
  }
  throw ConfigError(std::string(flag) + ": unsupported option type");
}

nlohmann::json checked_value(const OptionSpec& spec, std::string_view where, const nlohmann::json& value) {
  const std::string w(where);
  auto wrong_type = [&]() -> ConfigError {
    return ConfigError(w + ": " + value.dump() + " is not " + accepted_values(spec));
  };
  if (value.is_null()) {
    if (spec.nullable()) return value;
    throw ConfigError(w + ": null (None) is not allowed; it needs " + accepted_values(spec));
  }
  switch (spec.type) {
    case ValueType::boolean:
      if (!value.is_boolean()) throw wrong_type();
      return value;
    case ValueType::integer: {
      if (!value.is_number_integer()) throw wrong_type();
      const auto v = value.get<std::int64_t>();
      check_bounds(spec, where, std::to_string(v), static_cast<double>(v));
      return v;
    }
    case ValueType::floating: {
      if (!value.is_number()) throw wrong_type();
      const auto v = value.get<double>();
      check_bounds(spec, where, value.dump(), v);
      return v;
    }
    case ValueType::string:
      if (!value.is_string()) throw wrong_type();
      return resolve_choice(spec, where, value.get<std::string>());
    case ValueType::list:
      if (!value.is_array() || !std::all_of(value.begin(), value.end(), [](const auto& v) { return v.is_string(); }))
        throw ConfigError(w + ": " + value.dump() + " is not a list of strings");
      if (spec.max_values && value.size() > spec.max_values)
        throw ConfigError(w + ": " + value.dump() + " has more than " + std::to_string(spec.max_values) + " values");
      return value;
    case ValueType::json:
      if (!value.is_object()) throw wrong_type();
      return value;
  }
  throw wrong_type();
}

std::string display_value(const nlohmann::json& value) {
  if (value.is_null()) return "None";
  if (value.is_boolean()) return value.get<bool>() ? "true" : "false";
  if (value.is_number_float()) return format_number(value.get<double>());
  if (value.is_number()) return value.dump();
  if (value.is_string()) return value.get<std::string>();
  if (value.is_array()) {
    std::vector<std::string> items;
    for (const auto& item : value) items.push_back(display_value(item));
    std::string out = "[";
    out += join(items, ", ");
    out += ']';
    return out;
  }
  return value.dump();
}

}  // namespace megaswift::config
