// The training loop of megatron pt/sft: for each iteration, the global batch's micro-batches forward and backward
// with the loss as the token-level mean over the WHOLE global batch (Megatron's per-token loss: every micro-batch's
// gradient is scaled by 1 / loss tokens of the global batch, never a mean of micro-batch means), the global gradient
// norm, the NaN/Inf check, clipping and the optimizer step, the scheduler, evaluation, logging, TensorBoard scalars and
// checkpoint saves.
//
// A non-finite loss or gradient norm skips the step: gradients are dropped, the weights, the optimizer state and the
// schedule stay as they were, a warning is logged and counted; max_consecutive_nan_steps in a row stop the run with an
// error (the weights being unchanged, no save ever holds a NaN). SIGINT/SIGTERM stop the loop after the current step
// with a message; with save_on_signal the state is saved first.
#pragma once

#include "host/data/batching/data_loader.hpp"
#include "host/model/model_runner.hpp"
#include "host/training/flops.hpp"
#include "host/training/lr_scheduler.hpp"
#include "host/training/optimizer_driver.hpp"

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <utility>
#include <vector>

namespace megaswift::report {
class TensorBoardWriter;
}

namespace megaswift::training {

struct TrainerOptions {
  int64_t train_iters = 1;
  int64_t global_batch_size = 1;  // samples per iteration over all ranks (the scheduler counts samples)
  int64_t log_interval = 5;
  int64_t eval_interval = 0;  // 0: no evaluation during training
  int64_t eval_iters = 0;
  int64_t save_interval = 0;  // 0: only at the end (when saving at all)
  double clip_grad = 1.0;
  bool log_params_norm = true;
  int64_t tensorboard_log_interval = 1;
  bool log_learning_rate_to_tensorboard = true;
  bool log_validation_ppl_to_tensorboard = true;
  bool log_memory_to_tensorboard = true;
  int64_t max_consecutive_nan_steps = 10;
  bool save_on_signal = false;  // --exit_signal_handler
  int64_t pad_id = 0;
  bool progress_bar = true;     // a bar on a terminal; plain log lines otherwise
  double peak_tflops = 0;       // per device; 0: MFU not reported
  int64_t world_size = 1;       // devices the throughput is divided by
};

struct StepRecord {
  int64_t iteration = 0;
  double loss = 0;
  double grad_norm = 0;
  double lr = 0;
  int64_t loss_tokens = 0;
  bool skipped = false;
};

struct TrainingResult {
  std::vector<StepRecord> steps;                         // this run's iterations
  std::vector<std::pair<int64_t, double>> eval_losses;   // (iteration, loss)
  int64_t final_iteration = 0;
  int64_t skipped_steps = 0;
  bool interrupted = false;
  double seconds = 0;
  double tokens_per_second = 0;    // loss-carrying and not, real tokens (no padding)
  double model_seconds = 0;        // zeroing gradients, forward, backward, gradient norm, optimizer step
  double engine_seconds = 0;       // everything else inside the loop (data wait, batch assembly, logging, saves)
  std::vector<std::filesystem::path> saved;
};

struct TrainerParts {
  host::ModelRunner* runner = nullptr;
  OptimizerDriver* optimizer = nullptr;
  LrScheduler* scheduler = nullptr;
  data::DataLoader* train = nullptr;
  data::EvalLoader* val = nullptr;                  // null: no evaluation
  report::TensorBoardWriter* tensorboard = nullptr;  // null: no event file
  // Saves the state after `iteration`; returns the directory written. Null: this run does not save.
  std::function<std::filesystem::path(int64_t iteration)> save;
  FlopsModel flops;
};

class StepDump;

class Trainer {
 public:
  Trainer(TrainerParts parts, TrainerOptions options, int64_t start_iteration);
  ~Trainer();
  // Runs from start_iteration + 1 to train_iters.
  TrainingResult run();
  // One evaluation: eval_iters global batches of the validation loader; the token-level mean loss.
  double evaluate();

 private:
  struct Totals;
  StepRecord train_step(int64_t iteration, Totals& totals);
  void log_interval(int64_t iteration, const Totals& totals);

  TrainerParts parts_;
  TrainerOptions options_;
  int64_t start_iteration_;
  std::unique_ptr<StepDump> dump_;  // MEGASWIFT_DUMP_STEPS
};

// The peak resident memory of this process in bytes.
uint64_t peak_host_memory_bytes();
// The peak of the run's memory on `device`: the caching allocator's peak bytes in use on a GPU (Megatron's
// mem-max-allocated-bytes), the process's peak resident memory on the CPU.
uint64_t peak_memory_bytes(const msw_device& device);

}  // namespace megaswift::training
