// Reading the infer flags that may be unset (null) as optionals.
#pragma once

#include "host/config/args.hpp"

#include <optional>
#include <string>

namespace megaswift::inference {

inline std::optional<std::string> text_flag(const config::ParsedArgs& a, const char* key) {
  const nlohmann::json& v = a.at(key);
  return v.is_string() ? std::optional<std::string>(v.get<std::string>()) : std::nullopt;
}

template <class T>
std::optional<T> number_flag(const config::ParsedArgs& a, const char* key) {
  const nlohmann::json& v = a.at(key);
  return v.is_number() ? std::optional<T>(v.get<T>()) : std::nullopt;
}

}  // namespace megaswift::inference
