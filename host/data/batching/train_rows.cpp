#include "host/data/batching/train_rows.hpp"

#include "host/data/pipeline/error.hpp"

#include <algorithm>
#include <limits>
#include <string>

namespace megaswift::data {
namespace {

constexpr int32_t kIgnore = -100;

void check_shape(const EncodedSample& s) {
  if (s.labels.size() != s.input_ids.size() || (!s.loss_scale.empty() && s.loss_scale.size() != s.input_ids.size()))
    throw DataPipelineError("a tokenized sample has " + std::to_string(s.input_ids.size()) + " input ids but " +
                            std::to_string(s.labels.size()) + " labels and " + std::to_string(s.loss_scale.size()) +
                            " loss weights; the encoder must give one label (and weight, if any) per token");
}

}  // namespace

bool trainable(const EncodedSample& sample) {
  if (sample.input_ids.size() < 2 || sample.labels.size() != sample.input_ids.size()) return false;
  return std::any_of(sample.labels.begin() + 1, sample.labels.end(), [](int32_t l) { return l != kIgnore; });
}

int64_t shifted_length(const EncodedSample& sample) {
  return sample.input_ids.empty() ? 0 : static_cast<int64_t>(sample.input_ids.size()) - 1;
}

TrainRow make_row(const std::vector<EncodedSample>& samples) {
  TrainRow row;
  std::size_t total = 0;
  bool weighted = false;
  for (const EncodedSample& s : samples) {
    check_shape(s);
    total += static_cast<std::size_t>(shifted_length(s));
    weighted = weighted || !s.loss_scale.empty();
  }
  if (total > static_cast<std::size_t>(std::numeric_limits<int32_t>::max()))
    throw DataPipelineError("a packed row of " + std::to_string(total) +
                            " tokens does not fit the int32 sequence boundaries; lower --max_length");
  row.input_ids.reserve(total);
  row.labels.reserve(total);
  row.seq_boundaries.reserve(samples.size() + 1);
  if (weighted) row.loss_scale.reserve(total);
  row.seq_boundaries.push_back(0);
  for (const EncodedSample& s : samples) {
    const std::size_t n = s.input_ids.size();
    if (n >= 2) {
      row.input_ids.insert(row.input_ids.end(), s.input_ids.begin(), s.input_ids.end() - 1);
      row.labels.insert(row.labels.end(), s.labels.begin() + 1, s.labels.end());
      if (weighted) {
        if (s.loss_scale.empty())
          row.loss_scale.insert(row.loss_scale.end(), n - 1, 1.0f);
        else
          row.loss_scale.insert(row.loss_scale.end(), s.loss_scale.begin() + 1, s.loss_scale.end());
      }
    }
    row.seq_boundaries.push_back(static_cast<int32_t>(row.input_ids.size()));
  }
  return row;
}

}  // namespace megaswift::data
