// What loading a dataset did: rows read/kept per file, the detected format, rows dropped by reason (with the first
// example of each), warnings. Logged by the loader; kept for the caller's summary.
#pragma once

#include "datasets/core/format_detect.hpp"
#include "datasets/core/issues.hpp"

#include <cstddef>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace megaswift::datasets {

struct DropStats {
  std::size_t count = 0;
  std::string first;  // the first occurrence, e.g. "row 3 (line 4): messages[1].role is 'robot'"
};

struct SourceReport {
  std::string file;
  std::string subset;
  std::optional<RowFormat> format;  // none when the file has no object rows
  std::size_t rows_read = 0;
  std::size_t rows_kept = 0;
};

struct DatasetReport {
  std::string spec;
  std::vector<SourceReport> sources;
  std::map<RowIssue, DropStats> drops;
  std::vector<std::string> warnings;
  std::size_t rows_read = 0;
  std::size_t rows_kept = 0;   // usable rows before '#N' and the split
  std::size_t train_rows = 0;  // after '#N' and the split (load_train_val)
  std::size_t val_rows = 0;
  bool self_cognition = false;  // the --model_name / --model_author placeholders apply to some of its rows

  std::size_t dropped_total() const;
  std::size_t dropped(RowIssue issue) const;
  void add_drop(const RowProblem& problem, std::size_t index, std::size_t line);
};

// "row 3 (line 4)" / "row 3": where a row sits, for messages.
std::string row_location(std::size_t index, std::size_t line);

// Several lines of plain text: the spec, each file with its format and counts, drops by reason, warnings.
std::string describe(const DatasetReport& report);

// describe() through spdlog: info for the counts, warn for drops and warnings.
void log_report(const DatasetReport& report);

}  // namespace megaswift::datasets
