// --max_length and --truncation_strategy for one encoded sample.
#pragma once

#include <cstdint>
#include <string_view>
#include <vector>

namespace megaswift::data {

// delete (default): an over-long sample is dropped and counted; left / right: keep the last / first
// max_length tokens; split (pre-training): cut into pieces of max_length tokens.
enum class TruncationStrategy { Delete, Left, Right, Split };

// Throws std::invalid_argument listing the accepted names.
TruncationStrategy parse_truncation_strategy(std::string_view name);
const char* truncation_strategy_name(TruncationStrategy s);

struct EncodedSample {
  std::vector<int32_t> input_ids;
  std::vector<int32_t> labels;   // same length; -100 where no loss (not shifted, as in ms-swift/HF)
  std::vector<float> loss_scale; // per-token weights, only when some weight is not 0 or 1; else empty

  size_t size() const { return input_ids.size(); }
  size_t trained_tokens() const;
};

// Applies the strategy to a sample longer than max_length. Delete yields nothing. Every piece that
// results starts a new sequence, so its first label is -100 (there is no token before it to predict
// it from), as ms-swift does.
std::vector<EncodedSample> truncate(EncodedSample sample, size_t max_length, TruncationStrategy strategy);

}  // namespace megaswift::data
