// What data preparation did, per dataset spec and per split: rows, samples, drops by reason, token counts and
// sample lengths. Logged at info level, returned as a struct, and as JSON (written next to args.json).
#pragma once

#include "datasets/core/report.hpp"
#include "datasets/core/row.hpp"
#include "host/data/encoder/sample_encoder.hpp"

#include <nlohmann/json.hpp>

#include <cstddef>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace megaswift::data {

struct DropReason {
  std::size_t count = 0;
  std::string example;  // the first row dropped for it, e.g. "data.jsonl row 3: conversation message 2 ..."
};

// One --dataset / --val_dataset spec as the loader read it (before tokenizing).
struct DatasetSummary {
  std::string spec;
  std::size_t rows_read = 0;
  std::size_t rows_usable = 0;                     // after dropping malformed rows, before '#N' and the split
  std::map<std::string, DropReason> malformed;     // by the loader's reason (datasets::RowIssue)
  std::size_t train_rows = 0, val_rows = 0;        // after '#N' and the split
  std::vector<std::string> warnings;
};

// One split (train or val) after tokenizing.
struct SplitSummary {
  std::string name;               // "train" or "val"
  bool lazy = false;              // --lazy_tokenize: rows are tokenized when training reads them
  std::size_t rows = 0;           // rows handed to the encoder (after '#N' and the split)
  std::size_t rows_encoded = 0;   // rows tokenized so far: == rows, except in lazy mode
  std::size_t rows_kept = 0;      // rows that gave a sample
  std::size_t samples = 0;        // samples kept (one per kept row with delete/left/right)
  std::size_t truncated = 0;      // rows cut to --max_length (truncation_strategy left/right)
  std::size_t dropped_too_long = 0;             // longer than --max_length with truncation_strategy delete
  std::map<std::string, DropReason> too_long;   // at most one entry, with the first example
  std::map<std::string, DropReason> malformed;  // rows the template refused, by reason
  std::size_t tokens = 0;         // input tokens of the kept samples
  std::size_t label_tokens = 0;   // of those, tokens that carry loss (label != -100)
  std::size_t min_length = 0, max_length = 0;
  double mean_length = 0, median_length = 0;

  std::size_t dropped() const;
  bool complete() const { return rows_encoded == rows; }
};

struct DataSummary {
  std::string model_dir;
  std::string tokenizer_name;  // the tokenizer component the registry chose for model_dir
  std::string template_name;
  std::string template_reason;
  std::optional<std::size_t> max_length;  // the effective limit (--max_length or the model's max_model_len)
  std::string truncation_strategy;
  bool lazy = false;
  int num_proc = 1;
  std::vector<DatasetSummary> datasets;
  SplitSummary train, val;
};

// Counts encode results of one split into a SplitSummary. Feed rows in row order for deterministic examples.
class SplitTally {
 public:
  SplitTally(std::string name, std::size_t rows, bool lazy);
  // `row` is only read for the example text of a drop.
  void add(const datasets::Row& row, const EncodeResult& result, std::optional<std::size_t> max_length);
  SplitSummary summary() const;  // computes the length statistics

 private:
  SplitSummary s_;
  std::vector<std::uint32_t> lengths_;  // of the kept samples, for the median
};

DatasetSummary summarize(const datasets::DatasetReport& report);

// The template's refusal with its numbers replaced by '#', so "message 2" and "message 5" share a reason.
std::string malformed_reason(const std::string& error);
// "data.jsonl row 3" (0-based row index in its file, as the dataset reports say).
std::string row_location(const datasets::Row& row);

nlohmann::json to_json(const SplitSummary& s);
nlohmann::json to_json(const DataSummary& s);

// One line per split (and one per drop reason) through spdlog at info level; drops at warn.
std::string describe(const SplitSummary& s);
void log_summary(const DataSummary& s);

}  // namespace megaswift::data
