#include "host/data/batching/batch_stream.hpp"

#include "host/data/batching/train_rows.hpp"
#include "host/data/pipeline/error.hpp"

#include <spdlog/spdlog.h>

#include <stdexcept>
#include <string>

namespace megaswift::data {
namespace {

std::string str(int64_t v) { return std::to_string(v); }

void check_options(const LoaderOptions& o) {
  if (o.micro_batch_size < 1) throw std::invalid_argument("--micro_batch_size must be at least 1, got " + str(o.micro_batch_size));
  if (o.global_batch_size < 1)
    throw std::invalid_argument("--global_batch_size must be at least 1, got " + str(o.global_batch_size));
  if (o.dp_size < 1) throw std::invalid_argument("the data-parallel size must be at least 1, got " + str(o.dp_size));
  if (o.dp_rank < 0 || o.dp_rank >= o.dp_size)
    throw std::invalid_argument("data-parallel rank " + str(o.dp_rank) + " is outside 0.." + str(o.dp_size - 1));
  if (o.consumed_samples < 0)
    throw std::invalid_argument("consumed samples cannot be negative (got " + str(o.consumed_samples) + ")");
  if (o.num_workers < 0) throw std::invalid_argument("--num_workers cannot be negative, got " + str(o.num_workers));
  if (o.prefetch_global_batches < 1)
    throw std::invalid_argument("the loader prefetches at least 1 global batch, got " + str(o.prefetch_global_batches));
  if (o.dataloader_type != "cyclic" && o.dataloader_type != "single" && o.dataloader_type != "external")
    throw std::invalid_argument("--dataloader_type '" + o.dataloader_type +
                                "' is not one of: cyclic (reshuffle each epoch), single (dataset order), external");
}

}  // namespace

int64_t microbatches_per_step(const LoaderOptions& o) {
  const int64_t step = o.micro_batch_size * o.dp_size;
  if (o.global_batch_size % step == 0) return o.global_batch_size / step;
  const int64_t lower = o.global_batch_size / step * step;
  const std::string fix = lower > 0 ? "--global_batch_size " + str(lower) + " or " + str(lower + step)
                                    : "--global_batch_size " + str(step) + " (or a smaller --micro_batch_size)";
  throw std::invalid_argument("--global_batch_size " + str(o.global_batch_size) + " is not a multiple of " +
                              "--micro_batch_size " + str(o.micro_batch_size) + " x data-parallel size " +
                              str(o.dp_size) + " = " + str(step) +
                              " (each rank runs whole micro-batches, global / (micro x dp) of them per step): use " +
                              fix);
}

BatchStream::BatchStream(std::shared_ptr<const EncodedDataset> dataset, LoaderOptions options, bool eval)
    : dataset_(std::move(dataset)), options_(std::move(options)), eval_(eval) {
  if (!dataset_) throw std::invalid_argument("DataLoader needs a dataset");
  check_options(options_);
  microbatches_ = microbatches_per_step(options_);
  const char* split = eval_ ? "validation" : "training";
  if (dataset_->size() == 0)
    throw DataPipelineError(std::string("the ") + split + " split has no samples to batch: check --dataset" +
                            (eval_ ? ", --val_dataset and --split_dataset_ratio" : " and --split_dataset_ratio"));
  if (eval_) {
    options_.consumed_samples = 0;
  } else if (options_.dataloader_type == "external") {
    spdlog::info("--dataloader_type external: samples are read in dataset order, as with single");
  }
  if (options_.packing && !options_.padding_free) {
    spdlog::info("--packing keeps several samples in one row, which only padding-free batches keep apart: "
                 "batches are padding-free");
    options_.padding_free = true;
  }
  start_ = options_.consumed_samples;

  if (options_.packing) {
    PackingPlan plan = plan_packing(*dataset_, options_.max_length, std::max(1, options_.num_workers));
    elements_ = plan.rows.size();
    skipped_ = plan.skipped;
    if (plan.skipped > 0)
      spdlog::warn("packing the {} split: {} of {} samples cannot train (fewer than 2 tokens or no token with a "
                   "label) and are left out",
                   split, plan.skipped, dataset_->size());
    spdlog::info("packing the {} split: {} samples into {} rows of at most {} tokens ({:.1f}% full)", split,
                 static_cast<int64_t>(dataset_->size()) - plan.skipped, elements_, options_.max_length,
                 100.0 * static_cast<double>(plan.tokens) / static_cast<double>(elements_ * options_.max_length));
    packed_ = std::move(plan.rows);
  } else {
    elements_ = static_cast<int64_t>(dataset_->size());
    trainability_.reset(new std::atomic<uint8_t>[dataset_->size()]);
    for (std::size_t i = 0; i < dataset_->size(); ++i) trainability_[i].store(kUnknown, std::memory_order_relaxed);
  }

  const int64_t g = options_.global_batch_size;
  if (elements_ < g) {
    const std::string what = std::string("the ") + split + " split has " + str(elements_) +
                             (options_.packing ? " packed rows" : " samples") + ", fewer than one global batch (--global_batch_size " +
                             str(g) + ")";
    if (!eval_ && options_.dataloader_type != "cyclic")
      throw DataPipelineError(what + ", so --dataloader_type " + options_.dataloader_type +
                              " cannot make even one step from one pass over the data: lower --global_batch_size to "
                              "at most " + str(elements_) + " (a multiple of --micro_batch_size x data-parallel size) "
                              "or use --dataloader_type cyclic, which repeats samples within a step");
    spdlog::warn("{}: each step repeats samples", what);
  }
  order_.emplace(elements_, options_.seed, !eval_ && options_.dataloader_type == "cyclic");

  for (int i = 0; i < options_.num_workers; ++i) workers_.emplace_back([this] { work(); });
}

BatchStream::~BatchStream() {
  {
    std::lock_guard lock(mu_);
    stop_ = true;
  }
  work_cv_.notify_all();
  for (auto& t : workers_) t.join();
}

int64_t BatchStream::consumed_samples() const {
  std::lock_guard lock(mu_);
  return start_ + returned_ * options_.global_batch_size;
}

EncodedSample BatchStream::trainable_sample(int64_t index) const {
  const auto n = static_cast<int64_t>(dataset_->size());
  for (int64_t k = 0; k < n; ++k) {
    const int64_t j = (index + k) % n;
    std::atomic<uint8_t>& state = trainability_[static_cast<std::size_t>(j)];
    if (state.load(std::memory_order_acquire) == kUntrainable) continue;
    EncodedSample sample = dataset_->get(static_cast<std::size_t>(j));
    const bool ok = trainable(sample);
    uint8_t expected = kUnknown;
    if (state.compare_exchange_strong(expected, ok ? kTrainable : kUntrainable, std::memory_order_acq_rel) && !ok &&
        skipped_.fetch_add(1) == 0)
      spdlog::warn("sample {} of the {} split cannot train ({} tokens{}); such samples are skipped (the next "
                   "trainable sample takes their place) and counted",
                   j, eval_ ? "validation" : "training", sample.size(),
                   sample.size() < 2 ? "" : ", none with a label after the shift");
    if (ok) return sample;
  }
  throw DataPipelineError(std::string("none of the ") + str(n) + " samples of the " + (eval_ ? "validation" : "training") +
                          " split can train (each has fewer than 2 tokens or no token with a label): check the "
                          "dataset, --max_length and --truncation_strategy");
}

TrainRow BatchStream::row(int64_t element) const {
  if (!packed_) return make_row({trainable_sample(element)});
  std::vector<EncodedSample> samples;
  for (int64_t index : packed_->row(element)) samples.push_back(dataset_->get(static_cast<std::size_t>(index)));
  return make_row(samples);
}

MicroBatch BatchStream::build(int64_t task) const {
  const int64_t k = task / microbatches_, j = task % microbatches_;
  const int64_t m = options_.micro_batch_size;
  const int64_t per_rank = options_.global_batch_size / options_.dp_size;
  const int64_t first = start_ + k * options_.global_batch_size + options_.dp_rank * per_rank + j * m;
  MicroBatch batch;
  batch.padding_free = options_.padding_free;
  batch.rows.reserve(static_cast<std::size_t>(m));
  for (int64_t element : order_->at(first, m)) batch.rows.push_back(row(element));
  return batch;
}

void BatchStream::work() {
  for (;;) {
    int64_t task = 0;
    {
      std::unique_lock lock(mu_);
      work_cv_.wait(lock, [&] {
        return stop_ || next_task_ < (returned_ + options_.prefetch_global_batches) * microbatches_;
      });
      if (stop_) return;
      task = next_task_++;
    }
    Built built;
    try {
      built.batch = build(task);
    } catch (...) {
      built.error = std::current_exception();
    }
    {
      std::lock_guard lock(mu_);
      built_.emplace(task, std::move(built));
    }
    done_cv_.notify_all();
  }
}

std::vector<MicroBatch> BatchStream::next_global_batch() {
  std::vector<MicroBatch> out;
  out.reserve(static_cast<std::size_t>(microbatches_));
  if (workers_.empty()) {
    int64_t base = 0;
    {
      std::lock_guard lock(mu_);
      base = returned_ * microbatches_;
    }
    for (int64_t j = 0; j < microbatches_; ++j) out.push_back(build(base + j));
    std::lock_guard lock(mu_);
    ++returned_;
    return out;
  }
  std::unique_lock lock(mu_);
  const int64_t base = returned_ * microbatches_;
  for (int64_t j = 0; j < microbatches_; ++j) {
    done_cv_.wait(lock, [&] { return built_.count(base + j) > 0; });
    // A failed batch stays failed: every later call rethrows its error rather than skip it.
    if (const Built& b = built_.at(base + j); b.error) std::rethrow_exception(b.error);
  }
  for (int64_t j = 0; j < microbatches_; ++j) {
    auto node = built_.extract(base + j);
    out.push_back(std::move(*node.mapped().batch));
  }
  ++returned_;
  lock.unlock();
  work_cv_.notify_all();
  return out;
}

}  // namespace megaswift::data
