#include "host/data/pipeline/encoded_dataset.hpp"

#include "host/core/host_api.hpp"
#include "host/data/pipeline/encoding.hpp"
#include "host/data/pipeline/error.hpp"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <exception>
#include <stdexcept>
#include <thread>

namespace megaswift::data {
namespace {

// Rows a worker claims at once: large enough that claiming costs nothing, small enough to balance the threads
// and to move the progress bar.
constexpr std::size_t kChunk = 64;

// Ends the progress bar on every path out of encode_eagerly.
class Progress {
 public:
  Progress(const std::string& label, std::size_t total)
      : p_(host::host_api().progress_begin(label.c_str(), static_cast<int64_t>(total))) {}
  ~Progress() { host::host_api().progress_end(p_); }
  Progress(const Progress&) = delete;
  Progress& operator=(const Progress&) = delete;
  void advance(std::size_t n) { host::host_api().progress_advance(p_, static_cast<int64_t>(n)); }

 private:
  msw_progress* p_;
};

}  // namespace

std::string conversation_json(const datasets::Row& row) { return datasets::to_json(row).dump(); }

EagerSplit encode_eagerly(const Encoding& encoding, const std::vector<datasets::Row>& rows, int num_threads,
                          const std::string& split_name) {
  const SampleEncoder& encoder = encoding.encoder();
  std::vector<EncodeResult> results(rows.size());
  if (!rows.empty()) {
    Progress progress("tokenizing " + split_name, rows.size());
    std::atomic<std::size_t> next{0};
    std::atomic<bool> failed{false};
    std::exception_ptr error;
    std::mutex error_mu;
    auto work = [&] {
      for (std::size_t begin = next.fetch_add(kChunk); begin < rows.size() && !failed;
           begin = next.fetch_add(kChunk)) {
        const std::size_t end = std::min(rows.size(), begin + kChunk);
        try {
          for (std::size_t i = begin; i < end; ++i) results[i] = encoder.encode(conversation_json(rows[i]));
        } catch (...) {
          std::lock_guard lock(error_mu);
          if (!failed.exchange(true)) error = std::current_exception();
          return;
        }
        progress.advance(end - begin);
      }
    };
    const std::size_t chunks = (rows.size() + kChunk - 1) / kChunk;
    const std::size_t workers = std::min<std::size_t>(chunks, static_cast<std::size_t>(std::max(1, num_threads)));
    std::vector<std::thread> threads;
    for (std::size_t t = 1; t < workers; ++t) threads.emplace_back(work);
    work();
    for (auto& t : threads) t.join();
    if (error) std::rethrow_exception(error);
  }

  const std::optional<std::size_t> max_length = encoding.options().max_length;
  SplitTally tally(split_name, rows.size(), /*lazy=*/false);
  std::vector<EncodedSample> samples;
  samples.reserve(rows.size());
  for (std::size_t i = 0; i < rows.size(); ++i) {
    tally.add(rows[i], results[i], max_length);
    for (EncodedSample& s : results[i].samples) samples.push_back(std::move(s));
    results[i] = EncodeResult{};
  }
  return {std::make_shared<const EagerDataset>(std::move(samples)), tally.summary()};
}

LazyDataset::LazyDataset(std::shared_ptr<const Encoding> encoding, std::vector<datasets::Row> rows,
                         std::string split_name)
    : encoding_(std::move(encoding)),
      rows_(std::move(rows)),
      split_name_(std::move(split_name)),
      state_(new std::atomic<std::uint8_t>[rows_.size()]),
      tally_(split_name_, rows_.size(), /*lazy=*/true) {
  if (encoding_->options().truncation == TruncationStrategy::Split)
    throw DataPipelineError("truncation_strategy split makes several samples of one row, which lazy tokenization "
                            "cannot index: set --lazy_tokenize false");
  for (std::size_t i = 0; i < rows_.size(); ++i) state_[i].store(kUnknown, std::memory_order_relaxed);
}

EncodedSample LazyDataset::get(std::size_t i) const {
  const std::size_t n = rows_.size();
  if (i >= n)
    throw std::out_of_range(split_name_ + " sample " + std::to_string(i) + " requested, but the split has " +
                            std::to_string(n) + " rows");
  for (std::size_t k = 0; k < n; ++k) {
    const std::size_t j = (i + k) % n;
    if (state_[j].load(std::memory_order_acquire) == kUnusable) continue;
    EncodeResult r = encoding_->encoder().encode(conversation_json(rows_[j]));
    const bool usable = r.outcome == EncodeResult::Outcome::Ok;
    std::uint8_t expected = kUnknown;
    if (state_[j].compare_exchange_strong(expected, usable ? kUsable : kUnusable, std::memory_order_acq_rel)) {
      std::lock_guard lock(tally_mu_);
      tally_.add(rows_[j], r, encoding_->options().max_length);
      if (!usable && ++unusable_seen_ == 1)
        spdlog::warn("lazy tokenization: {} of the {} split is unusable ({}); such rows are skipped (the next usable "
                     "row takes their place) and counted in the summary",
                     row_location(rows_[j]), split_name_,
                     r.outcome == EncodeResult::Outcome::TooLong ? std::to_string(r.length) + " tokens, longer than --max_length"
                                                                 : r.error);
    }
    if (usable) return std::move(r.samples.front());
  }
  throw DataPipelineError("every one of the " + std::to_string(n) + " rows of the " + split_name_ +
                          " split is unusable (too long for --max_length or refused by the template; see the "
                          "warnings above): check the dataset, --max_length and --truncation_strategy");
}

SplitSummary LazyDataset::observed() const {
  std::lock_guard lock(tally_mu_);
  return tally_.summary();
}

}  // namespace megaswift::data
