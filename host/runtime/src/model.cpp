#include <megaswift/runtime/model.hpp>

#include "host/model/model_runner.hpp"
#include "host/runtime/src/state.hpp"

#include <string>

namespace megaswift::runtime {

namespace fs = std::filesystem;

struct Model::Impl {
  std::shared_ptr<const detail::RuntimeState> runtime;
  std::unique_ptr<host::ModelRunner> runner;

  // The host's batch, after the checks that keep a bad id from reaching the kernels.
  host::Batch batch(const std::vector<int64_t>& ids, const std::vector<int64_t>& labels, int64_t batch_size) const {
    if (batch_size <= 0) throw Error("Model: batch_size must be positive, got " + std::to_string(batch_size));
    if (ids.empty()) throw Error("Model: input_ids is empty");
    if (ids.size() % static_cast<size_t>(batch_size) != 0)
      throw Error("Model: " + std::to_string(ids.size()) + " input ids do not make " + std::to_string(batch_size) +
                  " rows of equal length");
    if (labels.size() != ids.size())
      throw Error("Model: " + std::to_string(labels.size()) + " labels for " + std::to_string(ids.size()) +
                  " input ids; give one target per position (shift_labels() makes them)");
    const int64_t vocab = runner->info().vocab_size;
    for (size_t i = 0; i < ids.size(); ++i) {
      if (ids[i] < 0 || ids[i] >= vocab)
        throw Error("Model: input_ids[" + std::to_string(i) + "] = " + std::to_string(ids[i]) +
                    " is outside the model's vocabulary [0, " + std::to_string(vocab) +
                    "): is the tokenizer the model's own?");
      if (labels[i] != kIgnoreIndex && (labels[i] < 0 || labels[i] >= vocab))
        throw Error("Model: labels[" + std::to_string(i) + "] = " + std::to_string(labels[i]) +
                    " is neither -100 nor in the model's vocabulary [0, " + std::to_string(vocab) + ")");
    }
    host::Batch b;
    b.batch_size = batch_size;
    b.seq_len = static_cast<int64_t>(ids.size()) / batch_size;
    b.input_ids = ids;
    b.labels = labels;
    return b;
  }
};

namespace {
Loss loss_of(const host::ForwardResult& r) { return Loss{r.loss_sum, r.token_count}; }
}  // namespace

Model::Model(const Runtime& runtime, const fs::path& model_dir, const ModelOptions& options)
    : impl_(std::make_unique<Impl>()) {
  impl_->runtime = runtime.state_;
  host::RunnerOptions runner_options;
  runner_options.num_threads = options.num_threads;
  impl_->runner = detail::translate("opening the model " + model_dir.string(), [&] {
    return std::make_unique<host::ModelRunner>(
        host::ModelRunner::from_hf_directory(*impl_->runtime->registry, model_dir, runner_options));
  });
}

Model::~Model() = default;
Model::Model(Model&&) noexcept = default;
Model& Model::operator=(Model&&) noexcept = default;

const std::string& Model::plugin_name() const { return impl_->runner->plugin_name(); }
int64_t Model::num_parameters() const { return impl_->runner->num_parameters(); }
int64_t Model::vocab_size() const { return impl_->runner->info().vocab_size; }

Loss Model::forward(const std::vector<int64_t>& input_ids, const std::vector<int64_t>& labels, int64_t batch_size) {
  host::Batch b = impl_->batch(input_ids, labels, batch_size);
  return detail::translate("model " + plugin_name() + ": forward",
                           [&] { return loss_of(impl_->runner->forward(b)); });
}

Loss Model::forward_backward(const std::vector<int64_t>& input_ids, const std::vector<int64_t>& labels,
                             int64_t batch_size) {
  host::Batch b = impl_->batch(input_ids, labels, batch_size);
  return detail::translate("model " + plugin_name() + ": forward_backward",
                           [&] { return loss_of(impl_->runner->forward_backward(b)); });
}

void Model::zero_grads() { impl_->runner->zero_grads(); }

std::vector<std::pair<std::string, std::vector<float>>> Model::gradients() const {
  return detail::translate("model " + plugin_name() + ": gradients",
                           [&] { return impl_->runner->export_hf(/*gradients=*/true); });
}

}  // namespace megaswift::runtime
