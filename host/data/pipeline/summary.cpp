#include "host/data/pipeline/summary.hpp"

#include "host/data/encoder/truncation.hpp"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <cctype>
#include <cstdio>

namespace megaswift::data {
namespace {

using nlohmann::json;

void count_drop(std::map<std::string, DropReason>& drops, const std::string& reason, const std::string& example) {
  DropReason& d = drops[reason];
  if (d.count++ == 0) d.example = example;
}

json drops_json(const std::map<std::string, DropReason>& drops) {
  json out = json::object();
  for (const auto& [reason, d] : drops) out[reason] = {{"count", d.count}, {"example", d.example}};
  return out;
}

std::string fixed1(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.1f", v);
  return buf;
}

}  // namespace

std::size_t SplitSummary::dropped() const {
  std::size_t n = dropped_too_long;
  for (const auto& [_, d] : malformed) n += d.count;
  return n;
}

std::string malformed_reason(const std::string& error) {
  std::string out;
  out.reserve(error.size());
  for (std::size_t i = 0; i < error.size(); ++i) {
    if (std::isdigit(static_cast<unsigned char>(error[i]))) {
      out += '#';
      while (i + 1 < error.size() && std::isdigit(static_cast<unsigned char>(error[i + 1]))) ++i;
    } else {
      out += error[i];
    }
  }
  return out;
}

std::string row_location(const datasets::Row& row) {
  return (row.source.empty() ? std::string("row ") : row.source + " row ") + std::to_string(row.index);
}

SplitTally::SplitTally(std::string name, std::size_t rows, bool lazy) {
  s_.name = std::move(name);
  s_.rows = rows;
  s_.lazy = lazy;
}

void SplitTally::add(const datasets::Row& row, const EncodeResult& result, std::optional<std::size_t> max_length) {
  ++s_.rows_encoded;
  switch (result.outcome) {
    case EncodeResult::Outcome::Malformed:
      count_drop(s_.malformed, malformed_reason(result.error), row_location(row) + ": " + result.error);
      return;
    case EncodeResult::Outcome::TooLong:
      ++s_.dropped_too_long;
      count_drop(s_.too_long, "longer than --max_length " + (max_length ? std::to_string(*max_length) : "?"),
                 row_location(row) + ": " + std::to_string(result.length) + " tokens");
      return;
    case EncodeResult::Outcome::Ok: break;
  }
  ++s_.rows_kept;
  if (result.samples.size() != 1 || result.samples.front().size() != result.length) ++s_.truncated;
  for (const EncodedSample& sample : result.samples) {
    ++s_.samples;
    s_.tokens += sample.size();
    s_.label_tokens += sample.trained_tokens();
    lengths_.push_back(static_cast<std::uint32_t>(sample.size()));
  }
}

SplitSummary SplitTally::summary() const {
  SplitSummary out = s_;
  if (lengths_.empty()) return out;
  std::vector<std::uint32_t> sorted = lengths_;
  std::sort(sorted.begin(), sorted.end());
  const std::size_t n = sorted.size();
  out.min_length = sorted.front();
  out.max_length = sorted.back();
  out.mean_length = static_cast<double>(out.tokens) / static_cast<double>(n);
  out.median_length = n % 2 ? sorted[n / 2] : (static_cast<double>(sorted[n / 2 - 1]) + sorted[n / 2]) / 2.0;
  return out;
}

DatasetSummary summarize(const datasets::DatasetReport& report) {
  DatasetSummary out;
  out.spec = report.spec;
  out.rows_read = report.rows_read;
  out.rows_usable = report.rows_kept;
  out.train_rows = report.train_rows;
  out.val_rows = report.val_rows;
  out.warnings = report.warnings;
  for (const auto& [issue, stats] : report.drops)
    out.malformed[std::string(datasets::to_string(issue))] = DropReason{stats.count, stats.first};
  return out;
}

json to_json(const SplitSummary& s) {
  return json{{"name", s.name},
              {"lazy", s.lazy},
              {"rows", s.rows},
              {"rows_encoded", s.rows_encoded},
              {"rows_kept", s.rows_kept},
              {"samples", s.samples},
              {"truncated", s.truncated},
              {"dropped_too_long", s.dropped_too_long},
              {"too_long", drops_json(s.too_long)},
              {"malformed", drops_json(s.malformed)},
              {"tokens", s.tokens},
              {"label_tokens", s.label_tokens},
              {"min_length", s.min_length},
              {"max_length", s.max_length},
              {"mean_length", s.mean_length},
              {"median_length", s.median_length}};
}

json to_json(const DataSummary& s) {
  json datasets = json::array();
  for (const DatasetSummary& d : s.datasets)
    datasets.push_back({{"spec", d.spec},
                        {"rows_read", d.rows_read},
                        {"rows_usable", d.rows_usable},
                        {"malformed", drops_json(d.malformed)},
                        {"train_rows", d.train_rows},
                        {"val_rows", d.val_rows},
                        {"warnings", d.warnings}});
  return json{{"model_dir", s.model_dir},
              {"tokenizer", s.tokenizer_name},
              {"template", s.template_name},
              {"template_reason", s.template_reason},
              {"max_length", s.max_length ? json(*s.max_length) : json(nullptr)},
              {"truncation_strategy", s.truncation_strategy},
              {"lazy_tokenize", s.lazy},
              {"dataset_num_proc", s.num_proc},
              {"datasets", std::move(datasets)},
              {"train", to_json(s.train)},
              {"val", to_json(s.val)}};
}

std::string describe(const SplitSummary& s) {
  std::string line = s.name + ": " + std::to_string(s.rows) + " rows";
  if (s.lazy && !s.complete()) {
    line += ", tokenized lazily as training reads them (--lazy_tokenize true)";
    if (s.rows_encoded == 0) return line;
    line += "; so far " + std::to_string(s.rows_encoded) + " tokenized:";
  }
  line += " -> " + std::to_string(s.samples) + " samples";
  if (s.dropped()) {
    line += ", " + std::to_string(s.dropped()) + " rows dropped (";
    std::string parts;
    if (s.dropped_too_long) parts += std::to_string(s.dropped_too_long) + " too long";
    std::size_t malformed = s.dropped() - s.dropped_too_long;
    if (malformed) parts += (parts.empty() ? "" : ", ") + std::to_string(malformed) + " malformed";
    line += parts + ")";
  }
  if (s.truncated) line += ", " + std::to_string(s.truncated) + " truncated";
  if (s.samples)
    line += "; " + std::to_string(s.tokens) + " tokens, " + std::to_string(s.label_tokens) + " with loss; length max " +
            std::to_string(s.max_length) + ", mean " + fixed1(s.mean_length) + ", median " + fixed1(s.median_length) +
            ", min " + std::to_string(s.min_length);
  return line;
}

void log_summary(const DataSummary& s) {
  spdlog::info("data: template '{}' ({}), tokenizer '{}' on {}, max_length {}, truncation_strategy {}{}",
               s.template_name, s.template_reason, s.tokenizer_name, s.model_dir,
               s.max_length ? std::to_string(*s.max_length) : std::string("none"), s.truncation_strategy,
               s.lazy ? ", lazy tokenization" : ", " + std::to_string(s.num_proc) + " tokenizing threads");
  std::size_t read = 0, usable = 0;
  for (const DatasetSummary& d : s.datasets) {
    read += d.rows_read;
    usable += d.rows_usable;
  }
  spdlog::info("data: {} rows read from {} dataset(s), {} usable ({} malformed rows dropped while loading)", read,
               s.datasets.size(), usable, read - usable);
  for (const SplitSummary* split : {&s.train, &s.val}) {
    if (split->name == "val" && split->rows == 0) {
      spdlog::info("data: val: no validation rows (set --split_dataset_ratio or --val_dataset for one)");
      continue;
    }
    spdlog::info("data: {}", describe(*split));
    for (const auto& [reason, d] : split->too_long)
      spdlog::warn("data: {}: dropped {} rows {} (truncation_strategy delete), e.g. {}", split->name, d.count, reason,
                   d.example);
    for (const auto& [reason, d] : split->malformed)
      spdlog::warn("data: {}: dropped {} rows the template refused: {} (first: {})", split->name, d.count, reason,
                   d.example);
  }
}

}  // namespace megaswift::data
