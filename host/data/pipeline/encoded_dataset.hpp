// The tokenized samples of one split, behind one interface whether they were tokenized before training
// (EagerDataset) or are tokenized when training reads them (LazyDataset, --lazy_tokenize true).
#pragma once

#include "datasets/core/row.hpp"
#include "host/data/encoder/truncation.hpp"
#include "host/data/pipeline/summary.hpp"

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

namespace megaswift::data {

class Encoding;

// A row in the template plugins' conversation JSON (megaswift/c/template.h). The datasets library and the
// templates share ms-swift's role names (system, user, assistant, tool_call, tool_response), so rows go as they are.
std::string conversation_json(const datasets::Row& row);

class EncodedDataset {
 public:
  virtual ~EncodedDataset() = default;
  // Eager: the samples kept. Lazy: the rows, since which ones will be dropped is not known yet.
  virtual std::size_t size() const = 0;
  // Sample i, for 0 <= i < size(); throws std::out_of_range otherwise. Thread-safe. Lazy datasets throw
  // DataPipelineError when every row of the split turns out unusable.
  virtual EncodedSample get(std::size_t i) const = 0;
  virtual bool lazy() const = 0;
};

class EagerDataset final : public EncodedDataset {
 public:
  explicit EagerDataset(std::vector<EncodedSample> samples) : samples_(std::move(samples)) {}
  std::size_t size() const override { return samples_.size(); }
  EncodedSample get(std::size_t i) const override { return samples_.at(i); }
  bool lazy() const override { return false; }
  const std::vector<EncodedSample>& samples() const { return samples_; }

 private:
  std::vector<EncodedSample> samples_;
};

struct EagerSplit {
  std::shared_ptr<const EagerDataset> dataset;
  SplitSummary summary;
};

// Tokenizes every row on `num_threads` threads (rows claimed in chunks), with a progress bar labelled
// "tokenizing <split>" through the host API. The samples come in row order, so the result does not depend on
// the thread count. Drops (too long under truncation_strategy delete, refused by the template) are counted in
// the summary; errors of the whole run (e.g. TemplateMismatch) are rethrown.
EagerSplit encode_eagerly(const Encoding& encoding, const std::vector<datasets::Row>& rows, int num_threads,
                          const std::string& split_name);

// Keeps the rows and tokenizes row i when get(i) is called, so memory holds rows, not token ids.
//
// A row that turns out unusable (too long under truncation_strategy delete, or refused by the template) is
// skipped: get(i) returns the sample of the first usable row at or after i, wrapping around to row 0. This
// depends only on the rows, never on the order or threads of the calls, so it is deterministic. Every row is
// counted once, the first time it is tokenized (observed()); unusable rows are remembered and not tokenized
// again. truncation_strategy split (several samples per row) is refused: use eager tokenization for it.
class LazyDataset final : public EncodedDataset {
 public:
  LazyDataset(std::shared_ptr<const Encoding> encoding, std::vector<datasets::Row> rows, std::string split_name);
  std::size_t size() const override { return rows_.size(); }
  EncodedSample get(std::size_t i) const override;
  bool lazy() const override { return true; }

  // What tokenizing has shown so far (rows_encoded < rows until every row was read once).
  SplitSummary observed() const;

 private:
  enum : std::uint8_t { kUnknown = 0, kUsable = 1, kUnusable = 2 };

  std::shared_ptr<const Encoding> encoding_;
  std::vector<datasets::Row> rows_;
  std::string split_name_;
  std::unique_ptr<std::atomic<std::uint8_t>[]> state_;
  mutable std::mutex tally_mu_;
  mutable SplitTally tally_;
  mutable std::size_t unusable_seen_ = 0;  // guarded by tally_mu_
};

}  // namespace megaswift::data
