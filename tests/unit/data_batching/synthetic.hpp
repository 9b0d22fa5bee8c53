// Synthetic tokenized splits for the batching tests: token t of sample i is i * 1000 + t, so every token of a
// row names the sample and position it came from.
#pragma once

#include "host/data/batching/data_loader.hpp"

#include <atomic>
#include <cstdint>
#include <memory>
#include <stdexcept>
#include <vector>

namespace megaswift::data::testing {

inline constexpr int32_t kTokensPerSample = 1000;

// `length` tokens; the first `prompt` labels are -100 (no loss).
inline EncodedSample sample(int32_t id, int32_t length, int32_t prompt = 1) {
  EncodedSample s;
  for (int32_t t = 0; t < length; ++t) {
    s.input_ids.push_back(id * kTokensPerSample + t);
    s.labels.push_back(t < prompt ? -100 : id * kTokensPerSample + t);
  }
  return s;
}

// n samples of lengths 2 + (i * 7) % max_extra.
inline std::shared_ptr<const EagerDataset> split(int32_t n, int32_t max_extra = 13) {
  std::vector<EncodedSample> samples;
  for (int32_t i = 0; i < n; ++i) samples.push_back(sample(i, 2 + (i * 7) % max_extra));
  return std::make_shared<const EagerDataset>(std::move(samples));
}

// Which sample a (non-packed) row came from.
inline int64_t sample_of(const TrainRow& row) { return row.input_ids.at(0) / kTokensPerSample; }

// This rank's samples of one global batch, in order.
inline std::vector<int64_t> samples_of(const std::vector<MicroBatch>& step) {
  std::vector<int64_t> out;
  for (const MicroBatch& mb : step)
    for (const TrainRow& row : mb.rows) out.push_back(sample_of(row));
  return out;
}

// The samples of the next `steps` global batches, one after the other.
inline std::vector<int64_t> stream(DataLoader& loader, int steps) {
  std::vector<int64_t> out;
  for (int s = 0; s < steps; ++s)
    for (int64_t id : samples_of(loader.next_global_batch())) out.push_back(id);
  return out;
}

// A lazy-looking dataset that builds samples in get() (like LazyDataset tokenizing), counts the calls, and
// throws for one index when asked to.
class GeneratedDataset final : public EncodedDataset {
 public:
  explicit GeneratedDataset(std::size_t n, int64_t throw_at = -1) : n_(n), throw_at_(throw_at) {}
  std::size_t size() const override { return n_; }
  EncodedSample get(std::size_t i) const override {
    if (i >= n_) throw std::out_of_range("sample index out of range");
    calls_.fetch_add(1);
    if (static_cast<int64_t>(i) == throw_at_) throw std::runtime_error("tokenizing sample failed on purpose");
    return sample(static_cast<int32_t>(i), 3 + static_cast<int32_t>(i % 5));
  }
  bool lazy() const override { return true; }
  int64_t calls() const { return calls_.load(); }

 private:
  std::size_t n_;
  int64_t throw_at_;
  mutable std::atomic<int64_t> calls_{0};
};

}  // namespace megaswift::data::testing
