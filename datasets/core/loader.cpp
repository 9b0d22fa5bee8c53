#include "datasets/core/loader.hpp"

#include "datasets/core/error.hpp"
#include "datasets/core/record_reader.hpp"
#include "datasets/core/registry.hpp"
#include "datasets/core/sampling.hpp"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <set>
#include <variant>

namespace megaswift::datasets {

namespace {

void apply_transform(Row& row, const SourceTransform& t) {
  for (Message& m : row.messages) {
    if (m.role == kRoleUser) m.content += t.query_suffix;
    if (m.role == kRoleAssistant) m.content.insert(0, t.response_prefix);
  }
}

void warn_placeholders(DatasetReport& report, const SelfCognitionNames& names) {
  if (!names.has_name())
    report.warnings.push_back("{{NAME}} placeholders stay as they are: pass --model_name (one value, or Chinese and "
                              "English names)");
  if (!names.has_author())
    report.warnings.push_back("{{AUTHOR}} placeholders stay as they are: pass --model_author (one value, or Chinese "
                              "and English names)");
}

void load_source(const ResolvedSource& source, const LoadOptions& options, std::vector<Row>& rows, DatasetReport& report) {
  const std::string name = source.file.string();
  std::vector<RawRecord> records = read_records(source.file);
  SourceReport src{name, source.subset, std::nullopt, records.size(), 0};

  std::set<std::string> keys;
  for (RawRecord& rec : records) {
    if (!rec.problem) rec.problem = rename_columns(rec.value, options.columns);
    if (rec.problem) continue;
    if (source.self_cognition) apply_self_cognition(rec.value, options.self_cognition);
    for (const auto& [key, _] : rec.value.items()) keys.insert(key);
  }
  FormatPlan plan;
  if (!keys.empty()) {
    plan = detect_format({keys.begin(), keys.end()}, name);
    src.format = plan.format;
  }

  const NormalizeOptions normalize{options.purpose, options.seed};
  for (RawRecord& rec : records) {
    std::variant<Row, RowProblem> result =
        rec.problem ? std::variant<Row, RowProblem>(*rec.problem) : normalize_record(rec.value, plan, normalize, rec.index);
    if (auto* problem = std::get_if<RowProblem>(&result)) {
      if (options.strict)
        throw DatasetError(name + " " + row_location(rec.index, rec.line) + ": " + std::string(to_string(problem->issue)) +
                           ": " + problem->detail + " (--strict stops at malformed rows; without it they are dropped)");
      report.add_drop(*problem, rec.index, rec.line);
      continue;
    }
    Row& row = std::get<Row>(result);
    row.source = name;
    if (!source.transform.empty()) apply_transform(row, source.transform);
    rows.push_back(std::move(row));
    ++src.rows_kept;
  }
  report.rows_read += src.rows_read;
  report.rows_kept += src.rows_kept;
  report.sources.push_back(std::move(src));
}

}  // namespace

LoadedDataset load_dataset(const DatasetSpec& spec, const LoadOptions& options) {
  const ResolvedDataset resolved = resolve_dataset(spec, options.search_dirs);
  LoadedDataset out;
  out.report.spec = spec.text;
  bool self_cognition = false;
  for (const ResolvedSource& source : resolved.sources) {
    load_source(source, options, out.rows, out.report);
    self_cognition = self_cognition || source.self_cognition;
  }
  out.report.self_cognition = self_cognition;
  if (self_cognition) warn_placeholders(out.report, options.self_cognition);
  if (out.report.rows_read == 0) out.report.warnings.push_back("the dataset has no rows");
  else if (out.rows.empty()) out.report.warnings.push_back("every row was dropped; see the reasons above");
  return out;
}

LoadedDataset load_dataset(std::string_view spec, const LoadOptions& options) {
  return load_dataset(parse_dataset_spec(spec), options);
}

TrainValRows load_train_val(const std::vector<std::string>& datasets, const std::vector<std::string>& val_datasets,
                            double split_dataset_ratio, const LoadOptions& options) {
  if (datasets.empty()) throw DatasetError("no training dataset given: pass --dataset <id or path>[#N] ...");
  const double ratio = val_datasets.empty() ? split_dataset_ratio : 0.0;
  if (!val_datasets.empty() && split_dataset_ratio > 0.0)
    spdlog::info("--val_dataset given: split_dataset_ratio {} is not applied", split_dataset_ratio);

  TrainValRows out;
  auto take = [&](const std::vector<std::string>& specs, bool val) {
    for (std::size_t i = 0; i < specs.size(); ++i) {
      const DatasetSpec spec = parse_dataset_spec(specs[i]);
      LoadedDataset loaded = load_dataset(spec, options);
      Rng rng(derive_seed(options.seed, 2 * i + (val ? 1 : 0)));
      const SplitIndices split = split_indices(loaded.rows.size(), spec.sample, val ? 1.0 : ratio, rng, options.shuffle,
                                               spec.text);
      for (std::size_t k : split.train) out.train.push_back(loaded.rows[k]);
      for (std::size_t k : split.val) out.val.push_back(loaded.rows[k]);
      loaded.report.train_rows = split.train.size();
      loaded.report.val_rows = split.val.size();
      log_report(loaded.report);
      out.reports.push_back(std::move(loaded.report));
    }
  };
  take(datasets, false);
  take(val_datasets, true);

  const bool names_given = options.self_cognition.has_name() || options.self_cognition.has_author();
  const bool used = std::any_of(out.reports.begin(), out.reports.end(), [](const auto& r) { return r.self_cognition; });
  if (names_given && !used)
    spdlog::warn("--model_name/--model_author only fill the self-cognition dataset (swift/self-cognition), which is "
                 "not among the datasets; they have no effect");

  if (out.train.empty()) {
    std::string summary;
    for (const auto& r : out.reports) summary.append("\n").append(describe(r));
    throw DatasetError("no training rows left after loading the datasets:" + summary);
  }
  return out;
}

}  // namespace megaswift::datasets
