#include "datasets/core/report.hpp"

#include <spdlog/spdlog.h>

namespace megaswift::datasets {

std::size_t DatasetReport::dropped_total() const {
  std::size_t total = 0;
  for (const auto& [issue, stats] : drops) total += stats.count;
  return total;
}

std::size_t DatasetReport::dropped(RowIssue issue) const {
  const auto it = drops.find(issue);
  return it == drops.end() ? 0 : it->second.count;
}

std::string row_location(std::size_t index, std::size_t line) {
  std::string s = "row " + std::to_string(index);
  if (line > 0) s += " (line " + std::to_string(line) + ")";
  return s;
}

void DatasetReport::add_drop(const RowProblem& problem, std::size_t index, std::size_t line) {
  DropStats& stats = drops[problem.issue];
  if (stats.count++ == 0) stats.first = row_location(index, line) + ": " + problem.detail;
}

namespace {

std::string counts_line(const DatasetReport& r) {
  std::string s = "dataset '" + r.spec + "': " + std::to_string(r.rows_kept) + " of " + std::to_string(r.rows_read) +
                  " rows usable";
  if (r.train_rows || r.val_rows)
    s += ", " + std::to_string(r.train_rows) + " train / " + std::to_string(r.val_rows) + " val";
  return s;
}

std::string source_line(const SourceReport& s) {
  return "  " + s.file + (s.subset.empty() || s.subset == "default" ? "" : " [" + s.subset + "]") + ": " +
         (s.format ? std::string(to_string(*s.format)) : std::string("no rows")) + ", " +
         std::to_string(s.rows_kept) + "/" + std::to_string(s.rows_read) + " rows kept";
}

std::string drop_line(RowIssue issue, const DropStats& stats) {
  return "  dropped " + std::to_string(stats.count) + " rows: " + std::string(to_string(issue)) + " (first: " +
         stats.first + ")";
}

}  // namespace

std::string describe(const DatasetReport& r) {
  std::string s = counts_line(r);
  for (const auto& src : r.sources) s.append("\n").append(source_line(src));
  for (const auto& [issue, stats] : r.drops) s.append("\n").append(drop_line(issue, stats));
  for (const auto& w : r.warnings) s.append("\n  warning: ").append(w);
  return s;
}

void log_report(const DatasetReport& r) {
  spdlog::info("{}", counts_line(r));
  for (const auto& src : r.sources) spdlog::info("{}", source_line(src));
  for (const auto& [issue, stats] : r.drops) spdlog::warn("dataset '{}':{}", r.spec, drop_line(issue, stats));
  for (const auto& w : r.warnings) spdlog::warn("dataset '{}': {}", r.spec, w);
}

}  // namespace megaswift::datasets
