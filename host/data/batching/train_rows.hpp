// EncodedSample (labels aligned with input_ids, as ms-swift/HF keep them) -> TrainRow (labels shifted, as the
// model runner takes them).
#pragma once

#include "host/data/batching/data_loader.hpp"

#include <vector>

namespace megaswift::data {

// Trainable: at least 2 tokens, and a label other than -100 at positions 1..n-1. labels[0] never counts: no
// position before it predicts it, so the shift drops it.
bool trainable(const EncodedSample& sample);

// Tokens the sample occupies in a TrainRow: n - 1.
int64_t shifted_length(const EncodedSample& sample);

// One row from the samples, one after the other: input_ids[0, n-1) and labels[1, n) of each, the cumulative
// starts in seq_boundaries, and loss_scale[1, n) when any sample has weights (1 for those without). Throws
// DataPipelineError when a sample's labels or loss_scale do not match its input_ids in length.
TrainRow make_row(const std::vector<EncodedSample>& samples);

}  // namespace megaswift::data
