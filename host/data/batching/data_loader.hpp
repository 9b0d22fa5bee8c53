// The tokenized samples of a split -> the micro-batches of each optimizer step, as Megatron-SWIFT feeds them:
// a seeded order over epochs, global batches split by data-parallel rank, optional packing, prefetch threads.
//
// Order. Positions 0, 1, 2, ... of one endless stream of samples, shared by all ranks, are the concatenation of
// the epochs: epoch e is a Fisher-Yates permutation seeded by seed + e (cyclic) or the dataset order (single,
// external). It depends on (seed, epoch, samples_per_epoch) only, never on threads or dp_size. Global batch k
// holds positions [k*G, (k+1)*G) after the consumed samples; rank r takes the contiguous slice
// [r*G/dp, (r+1)*G/dp) of it, cut into micro-batches in order. An epoch's incomplete last global batch continues
// into the next epoch, so nothing is dropped.
//
// Samples that cannot train (fewer than 2 tokens, or no label left after the shift) are skipped: without
// packing, the first trainable sample at or after it in dataset order (wrapping) takes its place, the rule
// LazyDataset uses for unusable rows, so the batches depend on the data only; with packing they are left out
// of the bins. skipped_samples() counts them.
#pragma once

#include "host/data/pipeline/encoded_dataset.hpp"

#include <nlohmann/json.hpp>

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace megaswift::data {

// One sequence, labels SHIFTED: labels[t] is the token after position t (-100: none), as Batch::Row of
// host/model/model_runner.hpp takes them. From a sample of n tokens: input_ids[0, n-1) and labels[1, n).
struct TrainRow {
  std::vector<int64_t> input_ids;
  std::vector<int64_t> labels;
  // With --packing: the packed samples' cumulative starts inside this row (0 ... size); else {0, size}.
  std::vector<int32_t> seq_boundaries;
  // --loss_scale weights shifted like labels, one per position; empty when every sample of the row has none
  // (the weight is then 1 where labels != -100). In a packed row, samples without weights get 1.
  std::vector<float> loss_scale;
  int64_t size() const { return static_cast<int64_t>(input_ids.size()); }
};

struct MicroBatch {
  std::vector<TrainRow> rows;  // the samples (packed rows with --packing) of this micro-batch on this rank
  bool padding_free = false;   // true: the engine concatenates rows (THD, cu_seqlens) instead of padding them
  int64_t num_tokens() const;       // sum of row lengths
  int64_t num_loss_tokens() const;  // labels != -100
};

struct LoaderOptions {
  int64_t micro_batch_size = 1;
  int64_t global_batch_size = 16;  // samples per optimizer step over all dp ranks
  int64_t dp_rank = 0, dp_size = 1;
  uint64_t seed = 42;                      // --data_seed (defaults to --seed)
  std::string dataloader_type = "cyclic";  // cyclic: reshuffle each epoch; single: dataset order; external: as single
  bool padding_free = true;                // ms-swift megatron default
  bool packing = false;                    // --packing: samples packed into rows of up to max_length tokens (implies
                                           // padding_free: a padded batch cannot keep samples apart inside a row)
  int64_t max_length = 0;                  // packing: the bin size, in (shifted) tokens per row
  int num_workers = 4;                     // prefetch threads (0: build batches in the caller's thread)
  int64_t prefetch_global_batches = 2;
  int64_t consumed_samples = 0;  // resume: samples already consumed over all ranks (Megatron's consumed_train_samples)
};

class BatchStream;

// Errors: std::invalid_argument for options that cannot work (the message names the flags and a fix);
// DataPipelineError (host/data/pipeline/error.hpp) for data that cannot be batched. Exceptions thrown while a
// worker builds a batch are rethrown by next_global_batch when it reaches that batch.
class DataLoader {
 public:
  DataLoader(std::shared_ptr<const EncodedDataset> dataset, LoaderOptions options);
  ~DataLoader();  // stops and joins the workers
  DataLoader(const DataLoader&) = delete;
  DataLoader& operator=(const DataLoader&) = delete;

  // Gradient accumulation = global / (micro x dp).
  int64_t num_microbatches() const;
  // This rank's micro-batches of the next optimizer step.
  std::vector<MicroBatch> next_global_batch();
  // Over all ranks, after the batches returned so far.
  int64_t consumed_samples() const;
  // The epoch of the next sample: consumed_samples() / samples_per_epoch().
  int64_t epoch() const;
  // Rows per epoch: the dataset's size, or the number of packed rows with --packing.
  int64_t samples_per_epoch() const;
  // Samples found untrainable so far (all of them, with --packing; as they are met, without).
  int64_t skipped_samples() const;
  // {"consumed_samples", "epoch", "seed", "dataloader_type"}: what a checkpoint stores.
  nlohmann::json state() const;
  // Optimizer steps in one epoch, for --num_train_epochs: floor(samples / global), as ms-swift derives
  // train_iters. Throws std::invalid_argument when the epoch is smaller than one global batch.
  static int64_t iters_per_epoch(int64_t samples_per_epoch, int64_t global_batch_size);

 private:
  friend class EvalLoader;
  DataLoader(std::shared_ptr<const EncodedDataset> dataset, LoaderOptions options, bool eval);
  std::unique_ptr<BatchStream> stream_;
};

// Eval: the whole validation split in dataset order (no shuffling), global batch after global batch split by
// rank as in training, cycling back to the start; each evaluation continues where the previous one stopped, as
// Megatron's validation iterator does. A split smaller than one global batch is allowed (it repeats).
// seed, dataloader_type and consumed_samples of the options are ignored.
class EvalLoader {
 public:
  EvalLoader(std::shared_ptr<const EncodedDataset> dataset, LoaderOptions options);
  int64_t num_microbatches() const { return loader_.num_microbatches(); }
  std::vector<MicroBatch> next_global_batch() { return loader_.next_global_batch(); }
  int64_t consumed_samples() const { return loader_.consumed_samples(); }
  int64_t samples_per_epoch() const { return loader_.samples_per_epoch(); }
  int64_t skipped_samples() const { return loader_.skipped_samples(); }

 private:
  DataLoader loader_;
};

}  // namespace megaswift::data
