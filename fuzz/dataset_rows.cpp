// A dataset file through load_dataset (datasets/core), as --dataset <file> reads it: the reader of its suffix
// (the first input byte picks .jsonl, .json, .csv or .txt), format detection and row normalization.
#include "fuzz_support.hpp"
#include "quiet_logs.hpp"

#include "datasets/core/error.hpp"
#include "datasets/core/loader.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  static const char* const kNames[] = {"rows.jsonl", "rows.json", "rows.csv", "rows.txt"};
  const auto path = msw_fuzz::scratch().write(kNames[data[0] % 4], msw_fuzz::as_text(data + 1, size - 1));
  megaswift::datasets::LoadOptions options;
  // '#N' sampling and the split are spec-driven and tested elsewhere; shuffling adds no parsing.
  options.shuffle = false;
  try {
    const auto loaded = megaswift::datasets::load_dataset(path.string(), options);
    for (const auto& row : loaded.rows) (void)row;
  } catch (const megaswift::datasets::DatasetError& e) {
    msw_fuzz::check_message(e);
  }
  return 0;
}
