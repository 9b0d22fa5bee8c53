// --packing: the samples of a split packed into rows of at most max_length tokens, once per dataset, by
// first-fit decreasing (deterministic: longest first, ties by sample index; each sample goes to the earliest
// row with room). Epochs then shuffle the rows.
#pragma once

#include "host/data/pipeline/encoded_dataset.hpp"

#include <cstdint>
#include <span>
#include <utility>
#include <vector>

namespace megaswift::data {

struct PackedRows {
  std::vector<int64_t> starts{0};  // row r holds members[starts[r], starts[r+1])
  std::vector<int64_t> members;    // sample indices, in the order they were placed (longest first)
  int64_t size() const { return static_cast<int64_t>(starts.size()) - 1; }
  std::span<const int64_t> row(int64_t r) const {
    return {members.data() + starts[static_cast<std::size_t>(r)],
            static_cast<std::size_t>(starts[static_cast<std::size_t>(r) + 1] - starts[static_cast<std::size_t>(r)])};
  }
};

// items: (sample index, length), every length in [1, capacity]; throws std::invalid_argument otherwise.
PackedRows pack_first_fit_decreasing(std::vector<std::pair<int64_t, int64_t>> items, int64_t capacity);

struct PackingPlan {
  PackedRows rows;
  int64_t skipped = 0;  // untrainable samples left out
  int64_t tokens = 0;   // shifted tokens packed
};

// Reads every sample once (on num_threads threads; a lazy dataset tokenizes them all here) for its shifted
// length, leaves the untrainable out, and packs the rest into rows of at most max_length tokens. Throws
// DataPipelineError naming the first sample longer than max_length, or when no sample can train.
PackingPlan plan_packing(const EncodedDataset& dataset, int64_t max_length, int num_threads);

}  // namespace megaswift::data
