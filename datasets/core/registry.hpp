// Dataset spec -> the files to read. A spec's location is a local path when it exists (file or folder); otherwise
// it is an id looked up in each search directory D in order, the first hit winning:
//   1. D/registry.json, an index {"<id>": {"file": "x.jsonl", "subsets": {"<subset>": {...}}, ...}} (format in
//      datasets/README.md); the bundled folder uses it for swift/self-cognition and our own datasets;
//   2. D/<id>.jsonl|.json|.csv|.txt (default subset only), e.g. D/AI-ModelScope/alpaca-gpt4-data-en.jsonl;
//   3. the folder D/<id>/, read with the folder rule below.
// Folder rule (for D/<id>/ and for a local folder): the default subset is train.<ext> or default.<ext>, else every
// data file directly in the folder; subset S is S.<ext> or every data file in the subfolder S/; "all" is every data
// file directly in the folder. A missing id throws DatasetError listing every place looked at.
#pragma once

#include "datasets/core/spec.hpp"

#include <filesystem>
#include <string>
#include <vector>

namespace megaswift::datasets {

// Text edits a registry subset applies to every row (ms-swift's self-cognition qwen3 / empty_think subsets).
struct SourceTransform {
  std::string query_suffix;     // appended to every user message
  std::string response_prefix;  // prepended to every assistant message
  bool empty() const { return query_suffix.empty() && response_prefix.empty(); }
};

struct ResolvedSource {
  std::filesystem::path file;
  std::string subset;           // "default" unless a subset was chosen
  bool self_cognition = false;  // --model_name / --model_author apply to this file's rows
  SourceTransform transform;
};

struct ResolvedDataset {
  DatasetSpec spec;
  bool local = false;                   // a path, not an id
  std::filesystem::path found_in;       // the search directory that held the id (empty for local paths)
  std::vector<ResolvedSource> sources;  // read in this order and concatenated
};

ResolvedDataset resolve_dataset(const DatasetSpec& spec, const std::vector<std::filesystem::path>& search_dirs);

}  // namespace megaswift::datasets
