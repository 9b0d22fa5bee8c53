#include "host/data/batching/data_loader.hpp"

#include "host/data/batching/batch_stream.hpp"

#include <algorithm>
#include <stdexcept>
#include <string>

namespace megaswift::data {

int64_t MicroBatch::num_tokens() const {
  int64_t n = 0;
  for (const TrainRow& r : rows) n += r.size();
  return n;
}

int64_t MicroBatch::num_loss_tokens() const {
  int64_t n = 0;
  for (const TrainRow& r : rows) n += std::count_if(r.labels.begin(), r.labels.end(), [](int64_t l) { return l != -100; });
  return n;
}

DataLoader::DataLoader(std::shared_ptr<const EncodedDataset> dataset, LoaderOptions options)
    : DataLoader(std::move(dataset), std::move(options), /*eval=*/false) {}

DataLoader::DataLoader(std::shared_ptr<const EncodedDataset> dataset, LoaderOptions options, bool eval)
    : stream_(std::make_unique<BatchStream>(std::move(dataset), std::move(options), eval)) {}

DataLoader::~DataLoader() = default;

int64_t DataLoader::num_microbatches() const { return stream_->num_microbatches(); }
std::vector<MicroBatch> DataLoader::next_global_batch() { return stream_->next_global_batch(); }
int64_t DataLoader::consumed_samples() const { return stream_->consumed_samples(); }
int64_t DataLoader::epoch() const { return stream_->consumed_samples() / stream_->samples_per_epoch(); }
int64_t DataLoader::samples_per_epoch() const { return stream_->samples_per_epoch(); }
int64_t DataLoader::skipped_samples() const { return stream_->skipped_samples(); }

nlohmann::json DataLoader::state() const {
  return {{"consumed_samples", consumed_samples()},
          {"epoch", epoch()},
          {"seed", stream_->options().seed},
          {"dataloader_type", stream_->options().dataloader_type}};
}

int64_t DataLoader::iters_per_epoch(int64_t samples_per_epoch, int64_t global_batch_size) {
  if (global_batch_size < 1)
    throw std::invalid_argument("--global_batch_size must be at least 1, got " + std::to_string(global_batch_size));
  if (samples_per_epoch < global_batch_size)
    throw std::invalid_argument("an epoch of " + std::to_string(samples_per_epoch) +
                                " samples is less than one global batch (--global_batch_size " +
                                std::to_string(global_batch_size) +
                                "), so --num_train_epochs gives no training step: lower --global_batch_size to at "
                                "most " + std::to_string(samples_per_epoch) + " or set --train_iters");
  return samples_per_epoch / global_batch_size;
}

EvalLoader::EvalLoader(std::shared_ptr<const EncodedDataset> dataset, LoaderOptions options)
    : loader_(std::move(dataset), std::move(options), /*eval=*/true) {}

}  // namespace megaswift::data
