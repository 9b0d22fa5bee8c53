// Training throughput on one GPU: Qwen2.5-0.5B- and 1.5B-shaped models (random init), AdamW, timed steps.
//
//   msw_bench_train_gpu [--model 0.5b|1.5b | --config hf_config.json] [--seq N] [--micro-batch N] [--steps K]
//                       [--warmup W] [--dtype bf16|f32] [--recompute none|selective|full]
//                       [--recompute-method uniform|block] [--recompute-layers N] [--packed]
//                       [--device cuda|cuda:N|cpu] [--profile]
//
// One step is what megatron sft does per micro-batch with one micro-batch per global batch: zero_grads, forward +
// backward of the mean loss on a fixed random batch (xorshift tokens, as msw_bench_cpu_step), the global gradient
// norm, and one AdamW update with clipping at 1.0 (lr 1e-4, weight decay 0.01, betas 0.9/0.999, eps 1e-8:
// torch.optim.AdamW's defaults, which tests/bench/baselines/hf_train.py uses). The device is synchronised before
// the clock starts and after each step, so a step's time is its device time.
//
// Prints one JSON line on stdout: tokens/s, model TFLOP/s by Megatron's formula (host/training/flops.hpp, the
// one the training log uses), MFU against 989 TFLOP/s (H100/H200 dense bf16), the caching allocator's peak bytes
// in use on the GPU (the host's max RSS on the CPU), and an analytic lower bound of the memory a step needs.
// --profile (or MEGASWIFT_PROFILE_OPS=1) also prints a per-op time table of the timed steps on stderr.
// Not a test: tests/bench/train_gpu/run.sh runs it beside transformers.
#include "host/core/events.hpp"
#include "host/core/host_api.hpp"
#include "host/core/status.hpp"
#include "host/cuda/caching_allocator.hpp"
#include "host/cuda/cuda_backend.hpp"
#include "host/model/model_runner.hpp"
#include "host/ops/op_profiler.hpp"
#include "host/plugin_host/registry.hpp"
#include "tests/bench/random_rows.hpp"
#include "host/training/flops.hpp"
#include "host/training/optimizer_driver.hpp"

#include <cuda_runtime.h>
#include <nlohmann/json.hpp>
#include <sys/resource.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <numeric>
#include <regex>
#include <string>
#include <vector>

using namespace megaswift;
using nlohmann::json;

namespace {

// The real configs of Qwen/Qwen2.5-0.5B and Qwen/Qwen2.5-1.5B (config.json), without their weights.
json qwen25_config(const std::string& model) {
  json c = {{"architectures", {"Qwen2ForCausalLM"}},
            {"model_type", "qwen2"},
            {"attention_dropout", 0.0},
            {"bos_token_id", 151643},
            {"eos_token_id", 151643},
            {"hidden_act", "silu"},
            {"initializer_range", 0.02},
            {"num_key_value_heads", 2},
            {"rms_norm_eps", 1e-6},
            {"rope_theta", 1000000.0},
            {"sliding_window", nullptr},
            {"use_sliding_window", false},
            {"tie_word_embeddings", true},
            {"use_cache", false},
            {"vocab_size", 151936}};
  if (model == "0.5b") {
    c["hidden_size"] = 896;
    c["intermediate_size"] = 4864;
    c["num_hidden_layers"] = 24;
    c["num_attention_heads"] = 14;
    c["max_position_embeddings"] = 32768;
    c["max_window_layers"] = 24;
  } else if (model == "1.5b") {
    c["hidden_size"] = 1536;
    c["intermediate_size"] = 8960;
    c["num_hidden_layers"] = 28;
    c["num_attention_heads"] = 12;
    c["max_position_embeddings"] = 131072;
    c["max_window_layers"] = 28;
  } else {
    throw std::runtime_error("--model " + model + ": 0.5b or 1.5b (or --config FILE)");
  }
  return c;
}

void synchronize(const msw_exec_ctx& ctx) {
  host::throw_if_error(host::stream_synchronize(ctx.device, ctx.stream), "synchronizing the device");
}

int32_t dtype_of(const std::string& name) {
  if (name == "bf16") return MSW_DTYPE_BF16;
  if (name == "f32" || name == "fp32") return MSW_DTYPE_F32;
  throw std::runtime_error("--dtype " + name + ": bf16 or f32");
}

msw_device device_of(const std::string& flag) {
  if (flag == "cpu") return {MSW_DEVICE_CPU, 0};
  static const std::regex cuda(R"(cuda(?::(\d+))?)");
  std::smatch m;
  if (!std::regex_match(flag, m, cuda)) throw std::runtime_error("--device " + flag + ": cuda, cuda:N or cpu");
  const int id = m[1].matched ? std::stoi(m[1].str()) : 0;
  const int count = host::cuda::device_count();
  if (id >= count)
    throw std::runtime_error("--device " + flag + ": " + std::to_string(count) + " GPU(s) visible; --device cpu runs on the CPU");
  host::cuda::register_cuda_backend();
  return {MSW_DEVICE_CUDA, id};
}

std::string device_name(const msw_device& d) {
  if (d.type == MSW_DEVICE_CPU) return "CPU";
  cudaDeviceProp prop{};
  if (cudaGetDeviceProperties(&prop, d.id) != cudaSuccess) return "GPU " + std::to_string(d.id);
  return prop.name;
}

}  // namespace

int main(int argc, char** argv) {
  std::string model = "0.5b", config_path, dtype_name = "bf16", recompute = "none", device_flag = "cuda";
  std::string recompute_method = "uniform";
  int64_t recompute_layers = 1;
  int64_t seq = 4096, micro_batch = 1;
  int steps = 10, warmup = 3;
  bool packed = false, profile = host::ops::op_profiling_enabled();
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    auto next = [&]() -> std::string {
      if (i + 1 >= argc) {
        std::cerr << a << " needs a value\n";
        std::exit(2);
      }
      return argv[++i];
    };
    if (a == "--model") model = next();
    else if (a == "--config") config_path = next();
    else if (a == "--seq") seq = std::stoll(next());
    else if (a == "--micro-batch") micro_batch = std::stoll(next());
    else if (a == "--steps") steps = std::stoi(next());
    else if (a == "--warmup") warmup = std::stoi(next());
    else if (a == "--dtype") dtype_name = next();
    else if (a == "--recompute") recompute = next();
    else if (a == "--recompute-method") recompute_method = next();
    else if (a == "--recompute-layers") recompute_layers = std::stoll(next());
    else if (a == "--packed") packed = true;
    else if (a == "--device") device_flag = next();
    else if (a == "--profile") profile = true;
    else {
      std::cerr << "unknown flag " << a
                << "; flags: --model 0.5b|1.5b --config FILE --seq N --micro-batch N --steps K --warmup W "
                   "--dtype bf16|f32 --recompute none|selective|full --recompute-method uniform|block --recompute-layers N "
                   "--packed --device cuda|cpu --profile\n";
      return 2;
    }
  }
  try {
    if (steps < 1 || warmup < 0 || seq < 2 || micro_batch < 1)
      throw std::runtime_error("--steps >= 1, --warmup >= 0, --seq >= 2 and --micro-batch >= 1");
    if (recompute != "none" && recompute != "selective" && recompute != "full")
      throw std::runtime_error("--recompute " + recompute + ": none, selective or full");
    json cfg;
    if (!config_path.empty()) {
      std::ifstream in(config_path);
      if (!in) throw std::runtime_error("cannot read " + config_path);
      cfg = json::parse(in);
      model = cfg.value("model_type", std::string("custom"));
    } else {
      cfg = qwen25_config(model);
    }
    const int32_t dtype = dtype_of(dtype_name);
    const msw_device device = device_of(device_flag);
    const bool cuda = device.type == MSW_DEVICE_CUDA;

    host::PluginRegistry registry(host::host_api());
    registry.load_directories(host::PluginRegistry::search_path({}));
    host::RunnerOptions options;
    options.device = device;
    // The runner's mixed precision (bf16 compute weights and activations) reads this; a runner that does not
    // implement it yet runs fp32 whatever it says here, and the "dtype" of the JSON line is then only what was asked.
    options.compute_dtype = dtype;
    options.seed = 1234;
    // Selective recompute (core attention) is what every layer does anyway: attention keeps no probabilities
    // (flash semantics), so only full recompute changes what the runner does (as run_training.cpp maps it).
    options.layout.recompute = recompute == "full" ? "full" : "none";
    options.layout.recompute_method = recompute_method;
    options.layout.recompute_num_layers = recompute_layers;
    options.layout.packed = packed;
    host::ModelRunner runner = host::ModelRunner::from_hf_config(registry, cfg.dump(), options);

    const json adam_config = {{"adam_beta1", 0.9}, {"adam_beta2", 0.999}, {"adam_eps", 1e-8}};
    training::OptimizerDriver optimizer(registry.require(MSW_KIND_OPTIMIZER, "adam"), adam_config, runner);
    constexpr double kLr = 1e-4, kWeightDecay = 0.01, kClip = 1.0;

    const int64_t vocab = cfg.at("vocab_size").get<int64_t>();
    const std::vector<host::Batch::Row> rows = bench::random_rows(micro_batch, seq, vocab);
    const host::Batch batch = packed ? host::Batch::pack(rows) : host::Batch::pad(rows);

    const msw_exec_ctx& ctx = runner.exec_ctx();
    std::vector<double> times;
    double loss = 0, first_loss = 0, grad_norm = 0;
    synchronize(ctx);
    auto t_start = std::chrono::steady_clock::now();
    for (int step = 0; step < warmup + steps; ++step) {
      if (step == warmup) {
        // The profile and the clock cover the timed steps only.
        if (profile) {
          host::ops::reset_op_profile();
          host::ops::set_op_profiling(true);
        }
        synchronize(ctx);
        t_start = std::chrono::steady_clock::now();
      }
      const auto t0 = std::chrono::steady_clock::now();
      runner.zero_grads();
      loss = runner.forward_backward(batch).loss();
      grad_norm = optimizer.grad_norm();
      optimizer.step(grad_norm, kLr, kWeightDecay, kClip);
      synchronize(ctx);
      const double dt = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
      if (step == 0) first_loss = loss;
      if (step >= warmup) times.push_back(dt);
    }
    const double total_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t_start).count();
    host::ops::set_op_profiling(false);
    if (!std::isfinite(loss)) throw std::runtime_error("the loss is not finite: " + std::to_string(loss));

    // Throughput by the training log's formula (tokens are B * S, padding-free here).
    const training::FlopsModel fm = training::flops_model_of(runner.transformer_config());
    const double flops_per_step = training::training_flops(fm, micro_batch, seq);
    const int64_t tokens_per_step = micro_batch * seq;
    const double peak = training::peak_tflops_per_device(cuda, device.id);
    const training::Throughput tp =
        training::throughput(flops_per_step * steps, tokens_per_step * steps, total_s, steps, 1, peak);
    std::vector<double> sorted = times;
    std::sort(sorted.begin(), sorted.end());
    const double median_s = sorted[sorted.size() / 2];

    // Memory: what the allocator saw, and what a step cannot do without. Per parameter: the 16-bit model
    // weight (mixed precision only), the fp32 main weight, the fp32 gradient and Adam's two fp32 moments.
    const int64_t params = runner.num_parameters();
    const int64_t bytes_per_param = (dtype == MSW_DTYPE_F32 ? 0 : 2) + 4 + 4 + 8;
    const host::ModelRunner::Memory mem =
        runner.memory(batch.batch_size, batch.seq_len, batch.packed, batch.packed ? batch.max_seqlen : 0, recompute == "full");
    uint64_t saved = mem.embedding_saved + mem.head_saved;
    for (uint64_t b : mem.layer_saved) saved += b;
    // The hidden state entering each layer and the head ([S, B, H] each), counted at the compute dtype: the least a
    // runner keeps beside the parts' saved buffers.
    const uint64_t hidden_states = static_cast<uint64_t>(runner.info().num_layers + 1) *
                                   static_cast<uint64_t>(tokens_per_step * runner.info().hidden_size) *
                                   msw_dtype_size(dtype);
    const uint64_t state_bytes = static_cast<uint64_t>(params) * static_cast<uint64_t>(bytes_per_param);

    json out = {{"impl", "megaswift"},
                {"model", model},
                {"device", device_name(device)},
                {"dtype", dtype_name},
                {"params", params},
                {"micro_batch", micro_batch},
                {"seq", seq},
                {"recompute", recompute},
                {"recompute_method", recompute == "full" ? json(recompute_method) : json(nullptr)},
                {"recompute_layers", recompute == "full" ? json(recompute_layers) : json(nullptr)},
                {"packed", packed},
                {"warmup", warmup},
                {"steps", steps},
                {"first_loss", first_loss},
                {"loss", loss},
                {"grad_norm", grad_norm},
                {"step_s_mean", total_s / steps},
                {"step_s_median", median_s},
                {"step_s_min", sorted.front()},
                {"tokens_per_s", tp.tokens_per_second_per_device},
                {"tflops_megatron", tp.tflops_per_device},
                {"mfu_percent", tp.mfu_percent},
                {"peak_tflops", peak},
                {"flops_per_step_megatron", flops_per_step},
                {"lower_bound_bytes", state_bytes + saved + hidden_states},
                {"lower_bound_detail",
                 {{"weights_grads_adam", state_bytes},
                  {"saved_activations", saved},
                  {"hidden_states", hidden_states},
                  {"workspace_not_counted", mem.workspace}}},
                {"profiled", profile}};
    if (cuda) {
      const host::cuda::AllocatorStats st = host::cuda::device_allocator().stats(device.id);
      out["peak_bytes"] = st.peak_bytes_in_use;
      out["peak_source"] = "caching allocator peak_bytes_in_use";
      size_t free_b = 0, total_b = 0;
      if (cudaMemGetInfo(&free_b, &total_b) == cudaSuccess) out["device_used_bytes_now"] = total_b - free_b;
    } else {
      rusage ru{};
      getrusage(RUSAGE_SELF, &ru);
      out["peak_bytes"] = static_cast<uint64_t>(ru.ru_maxrss) * 1024;
      out["peak_source"] = "host max RSS";
    }
    std::cout << out.dump() << std::endl;

    if (profile) {
      const auto rows_profile = host::ops::op_profile();
      double op_ms = 0;
      for (const auto& r : rows_profile) op_ms += r.total_ms;
      // On the GPU an op's time runs from its start event to its stop event on the stream, idle gaps included;
      // what the ops do not cover is host-side work between ops (batch upload, host reads, allocation).
      std::cerr << "per-op times over " << steps << " timed steps (" << (cuda ? "CUDA events on the stream" : "wall time")
                << "): step " << total_s / steps * 1e3 << " ms, ops " << op_ms / steps << " ms per step ("
                << (total_s > 0 ? 100.0 * op_ms / 1e3 / total_s : 0.0) << "% of the step)\n"
                << host::ops::format_op_profile(rows_profile, steps);
    }
  } catch (const std::exception& e) {
    std::cerr << "train_gpu: " << e.what() << "\n";
    return 1;
  }
  return 0;
}
