#include "datasets/core/columns.hpp"

#include "datasets/core/error.hpp"

#include <algorithm>
#include <cctype>

namespace megaswift::datasets {

std::string ascii_lower(std::string_view s) {
  std::string out(s);
  std::transform(out.begin(), out.end(), out.begin(), [](unsigned char c) { return std::tolower(c); });
  return out;
}

ColumnMap parse_columns(std::string_view json_text) {
  const std::string example = " (expected a JSON object of old -> new names, e.g. '{\"prompt\": \"query\", \"reply\": "
                              "\"response\"}')";
  if (json_text.find_first_not_of(" \t\r\n") == std::string_view::npos) return {};
  nlohmann::json j;
  try {
    j = nlohmann::json::parse(json_text);
  } catch (const nlohmann::json::exception& e) {
    throw DatasetError("--columns is not valid JSON: " + std::string(e.what()) + example);
  }
  if (!j.is_object()) throw DatasetError(std::string("--columns is a JSON ") + j.type_name() + example);
  ColumnMap map;
  for (const auto& [old_name, new_name] : j.items()) {
    if (!new_name.is_string() || new_name.get_ref<const std::string&>().empty())
      throw DatasetError("--columns maps '" + old_name + "' to " + new_name.dump() + ", expected a non-empty string" +
                         example);
    map.emplace_back(old_name, new_name.get<std::string>());
  }
  return map;
}

std::optional<RowProblem> rename_columns(nlohmann::json& row, const ColumnMap& columns) {
  if (columns.empty() || !row.is_object()) return std::nullopt;
  nlohmann::json renamed = nlohmann::json::object();
  for (auto& [key, value] : row.items()) {
    std::string target = key;
    const std::string lower = ascii_lower(key);
    for (const auto& [old_name, new_name] : columns)
      if (ascii_lower(old_name) == lower) {
        target = new_name;
        break;
      }
    if (renamed.contains(target))
      return RowProblem{RowIssue::column_conflict, "two keys would be named '" + target + "' (one of them is '" + key +
                                                       "'); fix --columns or the data"};
    renamed[target] = std::move(value);
  }
  row = std::move(renamed);
  return std::nullopt;
}

}  // namespace megaswift::datasets
