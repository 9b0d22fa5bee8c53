#include "host/training/trainer.hpp"

#include "host/checkpoint/test_kill_point.hpp"
#include "host/core/status.hpp"
#include "host/report/tensorboard_writer.hpp"
#include "host/training/batch_assembly.hpp"
#include "host/training/step_dump.hpp"
#include "host/training/stop_signal.hpp"

#ifdef MEGASWIFT_HAVE_CUDA
#include "host/cuda/caching_allocator.hpp"
#include "host/cuda/cuda_backend.hpp"
#endif

#include <spdlog/spdlog.h>

#include <sys/resource.h>
#include <unistd.h>

#include <chrono>
#include <cmath>
#include <cstdio>

namespace megaswift::training {
namespace {

using Clock = std::chrono::steady_clock;

double seconds_since(Clock::time_point t) { return std::chrono::duration<double>(Clock::now() - t).count(); }

std::string format_duration(double seconds) {
  const long s = static_cast<long>(seconds + 0.5);
  char buf[32];
  if (s >= 3600) std::snprintf(buf, sizeof buf, "%ld:%02ld:%02ld", s / 3600, s / 60 % 60, s % 60);
  else std::snprintf(buf, sizeof buf, "%02ld:%02ld", s / 60, s % 60);
  return buf;
}

// tqdm's look, so a user of ms-swift reads it at a glance: "Train:  45%|#####     | 45/100 [00:12<00:15, 3.61it/s]".
void draw_progress(int64_t done, int64_t first, int64_t total, double elapsed) {
  const double frac = total > 0 ? static_cast<double>(done) / static_cast<double>(total) : 1.0;
  const int width = 24, filled = static_cast<int>(frac * width);
  const double rate = elapsed > 0 ? static_cast<double>(done - first) / elapsed : 0.0;
  const double eta = rate > 0 ? static_cast<double>(total - done) / rate : 0.0;
  std::string bar(static_cast<size_t>(filled), '#');
  bar.resize(width, ' ');
  std::fprintf(stderr, "\rTrain: %3d%%|%s| %lld/%lld [%s<%s, %.2fit/s]", static_cast<int>(frac * 100), bar.c_str(),
               static_cast<long long>(done), static_cast<long long>(total), format_duration(elapsed).c_str(),
               format_duration(eta).c_str(), rate);
  std::fflush(stderr);
}

}  // namespace

uint64_t peak_host_memory_bytes() {
  rusage u{};
  getrusage(RUSAGE_SELF, &u);
  return static_cast<uint64_t>(u.ru_maxrss) * 1024;  // kilobytes on Linux
}

uint64_t peak_memory_bytes(const msw_device& device) {
#ifdef MEGASWIFT_HAVE_CUDA
  if (device.type == MSW_DEVICE_CUDA) return host::cuda::device_allocator().stats(device.id).peak_bytes_in_use;
#endif
  (void)device;
  return peak_host_memory_bytes();
}

// What the log aggregates between two log lines, and over the run.
struct Trainer::Totals {
  // since the last log line
  double loss_sum = 0;
  int64_t loss_tokens = 0;
  int64_t steps = 0, skipped = 0;
  double seconds = 0, flops = 0;
  int64_t tokens = 0;
  StepRecord last;
  // over the run
  int64_t consecutive_nan = 0, skipped_total = 0;
  double model_seconds = 0, engine_seconds = 0, run_seconds = 0;
  int64_t run_tokens = 0;
};

Trainer::Trainer(TrainerParts parts, TrainerOptions options, int64_t start_iteration)
    : parts_(std::move(parts)), options_(options), start_iteration_(start_iteration), dump_(StepDump::from_environment()) {
  if (!parts_.runner || !parts_.optimizer || !parts_.scheduler || !parts_.train)
    throw host::HostError(MSW_STATUS_INTERNAL, "Trainer: runner, optimizer, scheduler and train loader are required");
}

Trainer::~Trainer() = default;

StepRecord Trainer::train_step(int64_t iteration, Totals& totals) {
  const auto step_start = Clock::now();
  host::ModelRunner& runner = *parts_.runner;
  std::vector<data::MicroBatch> micro = parts_.train->next_global_batch();
  int64_t loss_tokens = 0, tokens = 0;
  std::vector<int64_t> lengths;
  for (const auto& mb : micro) {
    loss_tokens += mb.num_loss_tokens();
    tokens += mb.num_tokens();
    for (int64_t l : sequence_lengths(mb)) lengths.push_back(l);
  }
  // d(mean over the global batch)/d(loss_sum of a micro-batch): the same factor for every micro-batch.
  const double scale = loss_tokens > 0 ? 1.0 / static_cast<double>(loss_tokens) : 0.0;

  // Model compute, as Megatron's timers split a step: clearing the gradients, forward and backward, the gradient
  // norm and the optimizer; everything else (waiting for data, assembling batches, bookkeeping) is the engine's.
  auto t0 = Clock::now();
  runner.zero_grads();
  double model_seconds = seconds_since(t0);
  double loss_sum = 0;
  const double loss_scale = parts_.optimizer->loss_scale();  // fp16: the dynamic loss scale; else 1
  for (const auto& mb : micro) {
    host::Batch batch = assemble_batch(mb, options_.pad_id);
    const auto t = Clock::now();
    const host::ForwardResult r = runner.forward(batch);
    runner.backward(scale * loss_scale);
    model_seconds += seconds_since(t);
    loss_sum += r.loss_sum;
  }
  StepRecord rec;
  rec.iteration = iteration;
  rec.loss = loss_tokens > 0 ? loss_sum / static_cast<double>(loss_tokens) : 0.0;
  rec.loss_tokens = loss_tokens;
  rec.lr = parts_.scheduler->lr();
  t0 = Clock::now();
  rec.grad_norm = parts_.optimizer->grad_norm();
  model_seconds += seconds_since(t0);
  host::test_kill_point(host::KillPoint::step);

  if (std::isfinite(rec.loss) && parts_.optimizer->skip_overflow(rec.grad_norm)) {
    // fp16 overflow: expected while the loss scale settles (Megatron skips these steps the same way); not a NaN
    // streak, so it does not count towards --max_consecutive_nan_steps.
    rec.skipped = true;
    ++totals.skipped_total;
    ++totals.skipped;
    runner.zero_grads();
    spdlog::info("iteration {}: the fp16 gradients overflowed at loss scale {}; the step is skipped and the scale is now "
                 "{}", iteration, loss_scale, parts_.optimizer->loss_scale());
  } else if (!std::isfinite(rec.loss) || !std::isfinite(rec.grad_norm)) {
    rec.skipped = true;
    ++totals.consecutive_nan;
    ++totals.skipped_total;
    ++totals.skipped;
    runner.zero_grads();
    spdlog::warn("iteration {}: {} is {}; the step is skipped (weights, optimizer state and learning rate unchanged; "
                 "{} skipped in a row, {} in total)",
                 iteration, std::isfinite(rec.loss) ? "the gradient norm" : "the loss",
                 std::isfinite(rec.loss) ? rec.grad_norm : rec.loss, totals.consecutive_nan, totals.skipped_total);
    if (totals.consecutive_nan >= options_.max_consecutive_nan_steps)
      throw host::HostError(MSW_STATUS_ABORTED,
                            "training stopped at iteration " + std::to_string(iteration) + ": " +
                                std::to_string(totals.consecutive_nan) +
                                " steps in a row had a NaN/Inf loss or gradient norm (--max_consecutive_nan_steps). "
                                "Lower --lr, raise --lr_warmup_iters, check the data, or resume from the last "
                                "checkpoint (it holds no NaN)");
  } else {
    totals.consecutive_nan = 0;
    const auto t = Clock::now();
    parts_.optimizer->step(rec.grad_norm, rec.lr, parts_.scheduler->weight_decay(), options_.clip_grad);
    model_seconds += seconds_since(t);
    parts_.scheduler->step(options_.global_batch_size);
  }

  const double step_seconds = seconds_since(step_start);
  totals.model_seconds += model_seconds;
  totals.engine_seconds += step_seconds - model_seconds;
  totals.run_seconds += step_seconds;
  totals.run_tokens += tokens;
  totals.steps += 1;
  totals.seconds += step_seconds;
  totals.tokens += tokens;
  totals.flops += training_flops(parts_.flops, lengths);
  if (!rec.skipped) {
    totals.loss_sum += loss_sum;
    totals.loss_tokens += loss_tokens;
  }
  totals.last = rec;
  if (dump_) dump_->write(iteration, rec.lr, micro, rec.loss, rec.grad_norm, rec.skipped);
  return rec;
}

void Trainer::log_interval(int64_t iteration, const Totals& t) {
  const Throughput tp = throughput(t.flops, t.tokens, t.seconds, t.steps, options_.world_size, options_.peak_tflops);
  const double loss = t.loss_tokens ? t.loss_sum / static_cast<double>(t.loss_tokens) : std::nan("");
  // TFLOP/s with 4 significant digits: Megatron's one decimal would print 0.0 for a CPU run.
  std::string line = fmt::format(
      " iteration {:8d}/{:8d} | consumed samples: {:12d} | elapsed time per iteration (ms): {:.1f} | "
      "throughput per GPU (TFLOP/s/GPU): {:.4g} | tokens per second per GPU: {:.1f}",
      iteration, options_.train_iters, parts_.train->consumed_samples(), tp.ms_per_iteration, tp.tflops_per_device,
      tp.tokens_per_second_per_device);
  if (options_.peak_tflops > 0) line += fmt::format(" | MFU: {:.1f}%", tp.mfu_percent);
  // Megatron prints the loss scale between the loss and the grad norm (1.0 unless fp16 scales it).
  line += fmt::format(" | learning rate: {:.6E} | global batch size: {:5d} | lm loss: {:.6E} | loss scale: {:.1f} | "
                      "grad norm: {:.3f}",
                      t.last.lr, options_.global_batch_size, loss, parts_.optimizer->loss_scale(), t.last.grad_norm);
  if (options_.log_params_norm) line += fmt::format(" | params norm: {:.3f}", parts_.optimizer->params_norm());
  line += fmt::format(" | number of skipped iterations: {:3d} | peak memory (GB): {:.2f} | engine time: {:.1f}%", t.skipped,
                      static_cast<double>(peak_memory_bytes(parts_.runner->exec_ctx().device)) / 1e9,
                      t.run_seconds > 0 ? 100.0 * t.engine_seconds / t.run_seconds : 0.0);
  spdlog::info("{}", line);
}

double Trainer::evaluate() {
  if (!parts_.val || options_.eval_iters <= 0) return std::nan("");
  host::ModelRunner& runner = *parts_.runner;
  double loss_sum = 0;
  int64_t tokens = 0;
  for (int64_t i = 0; i < options_.eval_iters; ++i)
    for (const auto& mb : parts_.val->next_global_batch()) {
      const host::ForwardResult r = runner.forward(assemble_batch(mb, options_.pad_id));
      loss_sum += r.loss_sum;
      tokens += r.token_count;
    }
  return tokens ? loss_sum / static_cast<double>(tokens) : std::nan("");
}

TrainingResult Trainer::run() {
  TrainingResult result;
  Totals totals;
  const bool bar = options_.progress_bar && ::isatty(STDERR_FILENO);
  const auto run_start = Clock::now();
  report::TensorBoardWriter* tb = parts_.tensorboard;
  int64_t last_saved = -1;
  auto save = [&](int64_t iteration) {
    if (!parts_.save || last_saved == iteration) return;
    const double pn = parts_.optimizer->params_norm();
    if (!std::isfinite(pn))
      throw host::HostError(MSW_STATUS_ABORTED, "iteration " + std::to_string(iteration) +
                                                    ": the weights hold a NaN/Inf; nothing was saved (the last "
                                                    "checkpoint is intact)");
    result.saved.push_back(parts_.save(iteration));
    last_saved = iteration;
  };

  int64_t iteration = start_iteration_;
  if (iteration >= options_.train_iters)
    spdlog::info("the checkpoint is at iteration {} and --train_iters is {}: nothing left to train", iteration,
                 options_.train_iters);
  while (iteration < options_.train_iters) {
    ++iteration;
    const StepRecord rec = train_step(iteration, totals);
    const auto bookkeeping = Clock::now();  // logging, TensorBoard and the bar are the engine's time too
    result.steps.push_back(rec);
    if (tb && iteration % options_.tensorboard_log_interval == 0 && !rec.skipped) {
      tb->add_scalar("lm loss", rec.loss, iteration);
      tb->add_scalar("lm loss vs samples", rec.loss, parts_.train->consumed_samples());
      tb->add_scalar("grad-norm", rec.grad_norm, iteration);
      if (options_.log_learning_rate_to_tensorboard) tb->add_scalar("learning-rate", rec.lr, iteration);
      tb->add_scalar("batch-size", static_cast<double>(options_.global_batch_size), iteration);
      tb->add_scalar("iteration-time", result.steps.size() ? totals.seconds / std::max<int64_t>(1, totals.steps) : 0.0, iteration);
      if (options_.log_memory_to_tensorboard)
        tb->add_scalar("mem-max-allocated-bytes", static_cast<double>(peak_memory_bytes(parts_.runner->exec_ctx().device)), iteration);
    }
    if (iteration % options_.log_interval == 0 || iteration == options_.train_iters) {
      if (bar) std::fputc('\n', stderr);
      if (tb && options_.log_params_norm) tb->add_scalar("params-norm", parts_.optimizer->params_norm(), iteration);
      log_interval(iteration, totals);
      if (tb && totals.seconds > 0)
        tb->add_scalar("throughput/tokens_per_sec", static_cast<double>(totals.tokens) / totals.seconds, iteration);
      totals.loss_sum = 0;
      totals.loss_tokens = 0;
      totals.steps = totals.skipped = totals.tokens = 0;
      totals.seconds = totals.flops = 0;
    }
    if (bar) draw_progress(iteration, start_iteration_, options_.train_iters, seconds_since(run_start));
    const double bookkeeping_seconds = seconds_since(bookkeeping);
    totals.engine_seconds += bookkeeping_seconds;
    totals.run_seconds += bookkeeping_seconds;
    if (options_.eval_interval > 0 && iteration % options_.eval_interval == 0 && parts_.val) {
      const double v = evaluate();
      result.eval_losses.emplace_back(iteration, v);
      if (bar) std::fputc('\n', stderr);
      spdlog::info(" validation loss at iteration {} | lm loss value: {:.6E} | lm loss PPL: {:.6E}", iteration, v,
                   std::exp(v));
      if (tb) {
        tb->add_scalar("lm loss validation", v, iteration);
        if (options_.log_validation_ppl_to_tensorboard) tb->add_scalar("lm loss validation ppl", std::exp(v), iteration);
      }
    }
    if (options_.save_interval > 0 && iteration % options_.save_interval == 0) save(iteration);
    if (const int sig = stop_signal_received()) {
      if (bar) std::fputc('\n', stderr);
      result.interrupted = true;
      spdlog::warn("{} received: training stops after iteration {}{}", stop_signal_name(sig), iteration,
                   options_.save_on_signal && parts_.save ? ", saving first" : " (pass --exit_signal_handler true to save before stopping)");
      if (options_.save_on_signal) save(iteration);
      break;
    }
  }
  if (bar && iteration > start_iteration_) std::fputc('\n', stderr);
  if (!result.interrupted && iteration > start_iteration_) save(iteration);
  if (tb) tb->flush();
  result.final_iteration = iteration;
  result.skipped_steps = totals.skipped_total;
  result.seconds = seconds_since(run_start);
  result.model_seconds = totals.model_seconds;
  result.engine_seconds = totals.engine_seconds;
  result.tokens_per_second = totals.run_seconds > 0 ? static_cast<double>(totals.run_tokens) / totals.run_seconds : 0.0;
  return result;
}

}  // namespace megaswift::training
