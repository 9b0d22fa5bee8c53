#include "host/training/run_training.hpp"

#include "host/checkpoint/format.hpp"
#include "host/checkpoint/layout.hpp"
#include "host/checkpoint/load.hpp"
#include "host/config/args_json.hpp"
#include "host/core/status.hpp"
#include "host/core/text_io.hpp"
#include "host/data/batching/data_loader.hpp"
#include "host/data/pipeline/summary.hpp"
#include "host/data/pipeline/training_data.hpp"
#include "host/model/model_runner.hpp"
#include "host/report/loss_plot.hpp"
#include "host/report/tensorboard_writer.hpp"
#include "host/training/device_choice.hpp"
#include "host/training/feature_flags.hpp"
#include "host/training/model_source.hpp"
#include "host/training/stop_signal.hpp"
#include "host/training/training_state.hpp"
#include "kernels/cpu/blas_dispatch.hpp"
#include "kernels/cpu/threading.hpp"

#include <spdlog/spdlog.h>

#include <chrono>
#include <ctime>
#include <regex>

namespace fs = std::filesystem;
using nlohmann::json;

namespace megaswift::training {
namespace {

std::optional<std::string> text(const config::ParsedArgs& a, const char* key) {
  const json& v = a.at(key);
  return v.is_string() ? std::optional<std::string>(v.get<std::string>()) : std::nullopt;
}
int64_t integer(const config::ParsedArgs& a, const char* key) { return a.at(key).get<int64_t>(); }
double number(const config::ParsedArgs& a, const char* key) { return a.at(key).get<double>(); }
bool flag(const config::ParsedArgs& a, const char* key) { return a.at(key).get<bool>(); }

host::LoadOptions load_options(const config::ParsedArgs& a) {
  host::LoadOptions o;
  o.ckpt_format = a.get<std::string>("ckpt_format");
  o.auto_detect = flag(a, "auto_detect_ckpt_format");
  o.exit_on_missing = flag(a, "exit_on_missing_checkpoint");
  o.no_load_optim = flag(a, "no_load_optim");
  o.no_load_rng = flag(a, "no_load_rng");
  o.finetune = flag(a, "finetune");
  return o;
}

host::ParallelLayout layout_of(const config::ParsedArgs& a) {
  host::ParallelLayout l;
  l.tensor_parallel = integer(a, "tensor_model_parallel_size");
  l.context_parallel = integer(a, "context_parallel_size");
  l.pipeline_parallel = integer(a, "pipeline_model_parallel_size");
  l.sequence_parallel = flag(a, "sequence_parallel");
  l.packed = flag(a, "padding_free") || flag(a, "packing");
  // The runner recomputes whole layers for full; selective recompute (core attention) is what every CPU layer
  // does anyway (attention keeps no probabilities), so it asks nothing of the plugin.
  l.recompute = a.get<std::string>("recompute_granularity") == "full" ? "full" : "none";
  if (l.recompute == "full") {  // validation made both flags present with full
    l.recompute_method = a.get<std::string>("recompute_method");
    l.recompute_num_layers = integer(a, "recompute_num_layers");
  }
  return l;
}

data::LoaderOptions loader_options(const config::ParsedArgs& a, const json& data_state, bool train) {
  data::LoaderOptions o;
  o.micro_batch_size = integer(a, "micro_batch_size");
  o.global_batch_size = integer(a, "global_batch_size");
  o.dp_rank = 0;
  o.dp_size = 1;  // one process; the distributed engine passes its data-parallel rank and size
  o.seed = static_cast<uint64_t>(integer(a, a.at("data_seed").is_null() ? "seed" : "data_seed"));
  o.dataloader_type = a.get<std::string>("dataloader_type");  // validation (EvalLoader) reads its split in order
  o.padding_free = flag(a, "padding_free");
  o.packing = flag(a, "packing");
  if (const json& v = a.at("max_length"); v.is_number_integer()) o.max_length = v.get<int64_t>();
  o.num_workers = static_cast<int>(integer(a, "num_workers"));
  if (train && data_state.is_object() && data_state.contains("consumed_samples"))
    o.consumed_samples = data_state["consumed_samples"].get<int64_t>();
  return o;
}

// The common state's args: the run's arguments with the model's resolved transformer config over them (what
// recorded_model and a later --load read).
json checkpoint_args(const config::ParsedArgs& a, const host::ModelRunner& runner, const json& hf_config) {
  json args = config::args_to_json(a);
  const json model = json::parse(runner.transformer_config());
  for (auto it = model.begin(); it != model.end(); ++it) args[it.key()] = it.value();
  args["model_type"] = hf_config.value("model_type", runner.plugin_name());
  return args;
}

// The compute dtype of the run: bf16 mixed precision on a GPU under --bf16; fp32 on the CPU (the reference
// precision: its kernels gain nothing from 16-bit storage) and without --bf16. With neither --torch_dtype nor
// --bf16/--fp16 given, the model's config.json decides (torch_dtype, or transformers 5's dtype), as ms-swift does.
int32_t compute_dtype(const config::ParsedArgs& a, const msw_device& device, const json& hf_config) {
  bool bf16 = flag(a, "bf16"), fp16 = flag(a, "fp16");
  if (a.at("torch_dtype").is_null() && !bf16 && !fp16) {
    const std::string d = config_weight_dtype(hf_config);
    bf16 = d == "bfloat16";
    fp16 = d == "float16";
  }
  if (device.type == MSW_DEVICE_CPU) {
    if (bf16 || fp16)
      spdlog::info("{} weights (--{}, --torch_dtype or the model's config.json): this run is on the CPU, which computes "
                   "in fp32 (16-bit weights and activations are the GPU's); the losses are the fp32 reference's",
                   bf16 ? "bf16" : "fp16", bf16 ? "bf16" : "fp16");
    return MSW_DTYPE_F32;
  }
  return fp16 ? MSW_DTYPE_F16 : bf16 ? MSW_DTYPE_BF16 : MSW_DTYPE_F32;
}

}  // namespace

fs::path versioned_save_dir(const fs::path& save) {
  int64_t next = 0;
  std::error_code ec;
  static const std::regex version(R"(v(\d+)-.*)");
  if (fs::is_directory(save, ec))
    for (const auto& e : fs::directory_iterator(save, ec)) {
      std::smatch m;
      const std::string name = e.path().filename().string();
      if (e.is_directory() && std::regex_match(name, m, version)) next = std::max<int64_t>(next, std::stoll(m[1].str()) + 1);
    }
  const std::time_t now = std::time(nullptr);
  std::tm tm{};
  localtime_r(&now, &tm);
  char stamp[32];
  std::strftime(stamp, sizeof stamp, "%Y%m%d-%H%M%S", &tm);
  return save / ("v" + std::to_string(next) + "-" + stamp);
}

RunOutcome run_training(config::ParsedArgs args, const host::PluginRegistry& registry) {
  check_feature_flags(args);
  // From here on SIGINT/SIGTERM stop the run after the current step (or before the first, during preparation).
  StopSignalScope signals;
  const bool pt = args.command == config::Command::pt;
  // --optimizer names a plugin: a missing one is said before any data is read.
  const std::string optimizer_name = args.get<std::string>("optimizer");
  const host::LoadedComponent& optimizer_component = registry.require(MSW_KIND_OPTIMIZER, optimizer_name);

  // The checkpoint to start from, and the model directory (config.json, tokenizer).
  std::optional<host::OpenCheckpoint> ckpt;
  if (const auto load = text(args, "load")) ckpt = host::open_checkpoint(registry, *load, load_options(args));
  const fs::path model_dir = model_directory(args);
  if (text(args, "model") != std::optional<std::string>(model_dir.string())) {
    config::assign(args, "model", model_dir.string());
    config::resolve_derived_defaults(args);
  }

  // Data first: its errors are the most common and cost nothing to find.
  data::TrainingData data = data::build_training_data(args, registry);

  // The model.
  host::RunnerOptions ro;
  ro.seed = static_cast<uint64_t>(integer(args, "seed"));
  ro.layout = layout_of(args);
  ro.num_threads = 0;
  ro.device = choose_device(args.get<std::string>("device"));
  const json hf_config = json::parse(host::read_text_file(model_dir / "config.json", "model config"));
  ro.compute_dtype = compute_dtype(args, ro.device, hf_config);
  std::optional<host::ModelRunner> runner;
  runner.emplace(build_model(registry, model_dir, ckpt ? &*ckpt : nullptr, ro, pt));
  check_vocab_fits(runner->info().vocab_size, data.encoding->tokenizer().vocab_size(), model_dir);
  if (runner->exec_ctx().device.type == MSW_DEVICE_CPU)
    spdlog::info("device: CPU, {} threads, OpenBLAS {} kernels", kernels::cpu::num_threads(), kernels::cpu::blas_corename());
  else
    spdlog::info("device: {}, {} (fp32 main weights and gradients)", device_text(ro.device),
                 ro.compute_dtype == MSW_DTYPE_BF16   ? "bf16 weights and activations"
                 : ro.compute_dtype == MSW_DTYPE_F16 ? "fp16 weights and activations with dynamic loss scaling"
                                                     : "fp32 weights and activations");
  spdlog::info("model: {} parameters ({} trainable)", runner->num_parameters(), [&] {
    int64_t n = 0;
    for (const auto& p : runner->params()) n += p.requires_grad ? p.numel() : 0;
    return n;
  }());

  // The data loaders and the length of the run.
  const json data_state = ckpt ? ckpt->resume.data_state : json();
  const data::LoaderOptions train_options = loader_options(args, data_state, true);
  if (data_state.is_object() && data_state.contains("seed") && data_state["seed"].is_number_integer() &&
      data_state["seed"].get<uint64_t>() != train_options.seed)
    spdlog::warn("the checkpoint's data order was drawn with seed {} and this run's --data_seed/--seed is {}: the "
                 "remaining samples come in another order than the saved run would have seen them (pass --data_seed {} to "
                 "continue it exactly)",
                 data_state["seed"].get<uint64_t>(), train_options.seed, data_state["seed"].get<uint64_t>());
  auto train = std::make_unique<data::DataLoader>(data.train, train_options);
  if (args.at("train_iters").is_null()) {  // config validation made sure --num_train_epochs is set then
    const int64_t iters = integer(args, "num_train_epochs") *
                          data::DataLoader::iters_per_epoch(train->samples_per_epoch(), integer(args, "global_batch_size"));
    config::assign(args, "train_iters", std::max<int64_t>(1, iters));
    config::resolve_derived_defaults(args);
    spdlog::info("--num_train_epochs {}: --train_iters {}", integer(args, "num_train_epochs"), integer(args, "train_iters"));
  }
  std::unique_ptr<data::EvalLoader> val;
  if (data.val && data.val->size() > 0 && integer(args, "eval_iters") > 0)
    val = std::make_unique<data::EvalLoader>(data.val, loader_options(args, json(), false));

  // Optimizer and schedule.
  OptimizerDriver optimizer(optimizer_component, args.values, *runner);
  // fp16's narrow exponent range needs the loss scaled (Megatron's dynamic scaler and its defaults).
  if (ro.compute_dtype == MSW_DTYPE_F16) optimizer.enable_loss_scaling();
  const int64_t gbs = integer(args, "global_batch_size");
  LrScheduleOptions so;
  so.max_lr = number(args, "lr");
  so.min_lr = number(args, "min_lr");
  so.warmup_steps = integer(args, "lr_warmup_iters") * gbs;
  so.decay_steps = (args.at("lr_decay_iters").is_null() ? integer(args, "train_iters") : integer(args, "lr_decay_iters")) * gbs;
  so.decay_style = args.get<std::string>("lr_decay_style");
  so.weight_decay = number(args, "weight_decay");
  LrScheduler scheduler(so);
  int64_t start_iteration = 0;
  if (ckpt) {
    start_iteration = ckpt->resume.iteration;
    restore_training_state(*ckpt, *runner, optimizer, scheduler);
    if (start_iteration > 0)
      spdlog::info("resuming at iteration {} (consumed samples {}, learning rate {:.6E})", start_iteration,
                   train->consumed_samples(), scheduler.lr());
  }

  // Output directory, args.json, the data summary.
  fs::path save_dir;
  if (const auto save = text(args, "save")) {
    save_dir = flag(args, "add_version") ? versioned_save_dir(*save) : fs::path(*save);
    config::assign(args, "save", save_dir.string());
    config::resolve_derived_defaults(args);
    fs::create_directories(save_dir);
    // Atomic: a run killed here must not leave a truncated args.json beside the checkpoints (swift export reads it).
    host::write_file_atomic(save_dir / "args.json", config::args_to_json(args).dump(2) + "\n");
    host::write_file_atomic(save_dir / "data_summary.json", data::to_json(data.summary).dump(2) + "\n");
    spdlog::info("output directory: {}", save_dir.string());
  }
  std::unique_ptr<report::TensorBoardWriter> tb;
  if (const auto dir = text(args, "tensorboard_dir"))
    tb = std::make_unique<report::TensorBoardWriter>(*dir, static_cast<size_t>(integer(args, "tensorboard_queue_size")));

  // Saves through the checkpoint plugin of --ckpt_format.
  std::optional<host::CheckpointFormat> format;
  if (!save_dir.empty()) format.emplace(host::require_checkpoint_format(registry, args.get<std::string>("ckpt_format")));
  TrainerParts parts;
  parts.runner = &*runner;
  parts.optimizer = &optimizer;
  parts.scheduler = &scheduler;
  parts.train = train.get();
  parts.val = val.get();
  parts.tensorboard = tb.get();
  parts.flops = flops_model_of(runner->transformer_config());
  if (format)
    parts.save = [&, settings = SaveSettings{save_dir, model_dir, !flag(args, "no_save_optim"), !flag(args, "no_save_rng"),
                                             static_cast<uint64_t>(integer(args, "seed")), config::args_to_json(args),
                                             checkpoint_args(args, *runner, hf_config)}](int64_t iteration) {
      return save_training_checkpoint(*format, settings, iteration, {*runner, optimizer, scheduler, *train});
    };

  TrainerOptions to;
  to.train_iters = integer(args, "train_iters");
  to.global_batch_size = gbs;
  to.log_interval = integer(args, "log_interval");
  to.eval_iters = integer(args, "eval_iters");
  to.eval_interval = args.at("eval_interval").is_null() ? 0 : integer(args, "eval_interval");
  to.save_interval = integer(args, "save_interval");
  to.clip_grad = number(args, "clip_grad");
  to.log_params_norm = flag(args, "log_params_norm");
  to.tensorboard_log_interval = integer(args, "tensorboard_log_interval");
  to.log_learning_rate_to_tensorboard = !flag(args, "no_log_learning_rate_to_tensorboard");
  to.log_validation_ppl_to_tensorboard = flag(args, "log_validation_ppl_to_tensorboard");
  to.log_memory_to_tensorboard = flag(args, "log_memory_to_tensorboard");
  to.max_consecutive_nan_steps = integer(args, "max_consecutive_nan_steps");
  to.save_on_signal = flag(args, "exit_signal_handler");
  to.peak_tflops = peak_tflops_per_device(runner->exec_ctx().device.type == MSW_DEVICE_CUDA, 0);
  Trainer trainer(parts, to, start_iteration);
  RunOutcome outcome;
  outcome.result = trainer.run();
  outcome.save_dir = save_dir;

  // The final evaluation, then the curves as images beside the checkpoints.
  if (val && !outcome.result.interrupted && (outcome.result.eval_losses.empty() ||
                                             outcome.result.eval_losses.back().first != outcome.result.final_iteration)) {
    const double v = trainer.evaluate();
    outcome.result.eval_losses.emplace_back(outcome.result.final_iteration, v);
    spdlog::info(" validation loss at the end (iteration {}) | lm loss value: {:.6E} | lm loss PPL: {:.6E}",
                 outcome.result.final_iteration, v, std::exp(v));
    if (tb) tb->add_scalar("lm loss validation", v, outcome.result.final_iteration);
  }
  if (tb) tb->flush();
  if (!save_dir.empty()) {
    std::vector<report::Curve> curves(2);
    curves[0].tag = "train/loss";
    for (const StepRecord& s : outcome.result.steps)
      if (!s.skipped) curves[0].points.emplace_back(s.iteration, s.loss);
    curves[1].tag = "eval/loss";
    curves[1].points = outcome.result.eval_losses;
    if (report::loss_plots_available()) {
      for (const fs::path& f : report::plot_training_curves(curves, save_dir / "images"))
        spdlog::info("loss curve: {}", f.string());
    } else {
      spdlog::warn("no loss-curve images: this build has no cairo (install libcairo2-dev and rebuild); the curves "
                   "are in the TensorBoard file");
    }
  }
  const TrainingResult& r = outcome.result;
  const double loop = r.model_seconds + r.engine_seconds;
  spdlog::info("training done: {} iterations in {:.1f} s ({:.1f} tokens/s); engine time outside model compute {:.2f}% of "
               "step time; {} skipped steps",
               r.steps.size(), r.seconds, r.tokens_per_second, loop > 0 ? 100.0 * r.engine_seconds / loop : 0.0,
               r.skipped_steps);
  return outcome;
}

}  // namespace megaswift::training
