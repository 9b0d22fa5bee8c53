// --columns: a JSON object {"old": "new", ...} that renames row keys before the format is detected.
#pragma once

#include "datasets/core/issues.hpp"

#include <nlohmann/json.hpp>

#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace megaswift::datasets {

using ColumnMap = std::vector<std::pair<std::string, std::string>>;  // old name -> new name

// Parses the --columns value. Empty text is an empty map; anything but a JSON object of strings throws
// DatasetError with an example of the expected form.
ColumnMap parse_columns(std::string_view json_text);

// Renames the keys of `row` (an object) in place. Old names match case-insensitively (as in ms-swift); all
// renames apply at once, so {"a":"b","b":"a"} swaps. Returns a problem when two keys would end up with one name.
std::optional<RowProblem> rename_columns(nlohmann::json& row, const ColumnMap& columns);

// ASCII lower case, for the case-insensitive key matching ms-swift does.
std::string ascii_lower(std::string_view s);

}  // namespace megaswift::datasets
