// The entry points: dataset specs -> normalized rows, with the train/validation split.
//   resolve (registry.hpp) -> read records (record_reader.hpp) -> --columns -> self-cognition names
//   -> detect the format per file -> normalize each row (bad rows counted, not fatal) -> subset transform
//   -> '#N' sampling and split (sampling.hpp).
#pragma once

#include "datasets/core/columns.hpp"
#include "datasets/core/normalize.hpp"
#include "datasets/core/report.hpp"
#include "datasets/core/row.hpp"
#include "datasets/core/self_cognition.hpp"
#include "datasets/core/spec.hpp"

#include <cstdint>
#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

namespace megaswift::datasets {

struct LoadOptions {
  std::vector<std::filesystem::path> search_dirs;  // usually default_search_dirs()
  std::uint64_t seed = 42;                         // --seed / --data_seed
  ColumnMap columns;                               // --columns (parse_columns)
  SelfCognitionNames self_cognition;               // --model_name / --model_author (self_cognition_names)
  Purpose purpose = Purpose::sft;
  bool shuffle = true;                             // --dataset_shuffle: random '#N' remainders and split
  bool strict = false;                             // --strict: the first malformed row is a DatasetError
};

struct LoadedDataset {
  std::vector<Row> rows;  // every usable row of the spec's files, in file order; '#N' not applied
  DatasetReport report;
};

// One spec, all usable rows, and its report (not logged: log_report). Throws DatasetError for an unknown id, an unreadable file, bad JSON.
LoadedDataset load_dataset(const DatasetSpec& spec, const LoadOptions& options);
LoadedDataset load_dataset(std::string_view spec, const LoadOptions& options);

struct TrainValRows {
  std::vector<Row> train;
  std::vector<Row> val;
  std::vector<DatasetReport> reports;  // one per spec: --dataset ones first, then --val_dataset ones
};

// --dataset specs split by `split_dataset_ratio` (split_indices, per dataset, each with its own seed derived from
// LoadOptions::seed), plus --val_dataset specs taken whole into val (with their '#N'). When val specs are given the
// ratio is not applied (val comes from them alone), as in ms-swift. Throws DatasetError when no training row is left.
TrainValRows load_train_val(const std::vector<std::string>& datasets, const std::vector<std::string>& val_datasets,
                            double split_dataset_ratio, const LoadOptions& options);

}  // namespace megaswift::datasets
