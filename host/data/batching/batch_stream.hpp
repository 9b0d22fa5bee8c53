// The machinery behind DataLoader and EvalLoader: batch arithmetic, the order, rows (packed or not), and the
// worker threads that build micro-batches ahead of the caller.
#pragma once

#include "host/data/batching/data_loader.hpp"
#include "host/data/batching/packing.hpp"
#include "host/data/batching/sample_order.hpp"

#include <atomic>
#include <condition_variable>
#include <exception>
#include <map>
#include <mutex>
#include <optional>
#include <thread>

namespace megaswift::data {

// Gradient-accumulation steps for the options; throws std::invalid_argument naming the flags and the nearest
// valid --global_batch_size values when global is not a multiple of micro x dp.
int64_t microbatches_per_step(const LoaderOptions& options);

class BatchStream {
 public:
  // eval: dataset order, from the start, small splits allowed (see EvalLoader).
  BatchStream(std::shared_ptr<const EncodedDataset> dataset, LoaderOptions options, bool eval);
  ~BatchStream();
  BatchStream(const BatchStream&) = delete;
  BatchStream& operator=(const BatchStream&) = delete;

  int64_t num_microbatches() const { return microbatches_; }
  std::vector<MicroBatch> next_global_batch();
  int64_t consumed_samples() const;
  int64_t samples_per_epoch() const { return elements_; }
  int64_t skipped_samples() const { return skipped_.load(); }
  const LoaderOptions& options() const { return options_; }

 private:
  // Micro-batch j of global batch k (counted from the start position) is task k * microbatches_ + j.
  MicroBatch build(int64_t task) const;
  // Element e of an epoch: sample e, or packed row e.
  TrainRow row(int64_t element) const;
  // Sample i, or the first trainable one after it in dataset order (wrapping).
  EncodedSample trainable_sample(int64_t index) const;
  void work();

  struct Built {
    std::optional<MicroBatch> batch;
    std::exception_ptr error;
  };

  std::shared_ptr<const EncodedDataset> dataset_;
  LoaderOptions options_;
  bool eval_;
  int64_t microbatches_ = 0;
  int64_t start_ = 0;     // stream position of the first sample this loader hands out
  int64_t elements_ = 0;  // per epoch
  std::optional<PackedRows> packed_;
  std::optional<SampleOrder> order_;

  // Without packing: which samples were found (un)trainable, so each is counted once and not read again.
  enum : uint8_t { kUnknown = 0, kTrainable = 1, kUntrainable = 2 };
  std::unique_ptr<std::atomic<uint8_t>[]> trainability_;
  mutable std::atomic<int64_t> skipped_{0};

  mutable std::mutex mu_;
  std::condition_variable work_cv_, done_cv_;
  int64_t returned_ = 0;   // global batches handed out; guarded by mu_
  int64_t next_task_ = 0;  // guarded by mu_
  bool stop_ = false;      // guarded by mu_
  std::map<int64_t, Built> built_;  // guarded by mu_
  std::vector<std::thread> workers_;
};

}  // namespace megaswift::data
