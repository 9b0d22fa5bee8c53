// The --dataset / --val_dataset value syntax (ms-swift's): <id_or_path>[:subset1/subset2|all][#N]
//   swift/self-cognition            an id resolved through the registry (registry.hpp)
//   swift/self-cognition:qwen3#500  subset qwen3, 500 rows
//   ./data/train.jsonl#1000         a local file, 1000 rows
// Parsing is purely textual; whether `location` is a local path or an id is decided when resolving, because a
// path may itself contain ':' or '#'.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace megaswift::datasets {

struct DatasetSpec {
  std::string text;                  // as given
  std::string location;              // text without "#N" (still with ":subsets")
  std::string name;                  // location without ":subsets"
  std::vector<std::string> subsets;  // empty = the default subset; {"all"} = every subset
  std::optional<std::size_t> sample; // N of "#N"
};

// Throws DatasetError for an empty spec, "#0", an N too large, or an empty subset name.
DatasetSpec parse_dataset_spec(std::string_view text);

}  // namespace megaswift::datasets
