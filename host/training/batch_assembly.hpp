// A data-loader micro-batch as the model runner takes it: padded to the longest row ([B, S], labels -100 on the
// padding), or padding-free (one THD row: every sample, and every sample packed inside a row, is its own sequence
// in cu_seqlens, so attention never crosses samples).
#pragma once

#include "host/data/batching/data_loader.hpp"
#include "host/model/model_runner.hpp"

#include <cstdint>
#include <vector>

namespace megaswift::training {

host::Batch assemble_batch(const data::MicroBatch& micro_batch, int64_t pad_id);

// The lengths of the sequences of a micro-batch (packed samples separately), for the FLOPs count.
std::vector<int64_t> sequence_lengths(const data::MicroBatch& micro_batch);

}  // namespace megaswift::training
