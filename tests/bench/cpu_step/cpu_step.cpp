// One forward+backward step of a ~20M-parameter Qwen2-shaped model (random init) on the CPU, timed.
//
//   msw_bench_cpu_step [--config qwen2_20m.json] [--threads N] [--steps K] [--warmup W]
//                      [--recompute none|selective|full] [--packed]
//
// --packed runs the same tokens as one THD batch (the rows packed one after the other).
//
// The config is an HF config.json plus bench_batch_size / bench_seq_len; torch_step.py reads the same file
// and builds the same model in plain PyTorch. Prints one JSON line: {"impl": "megaswift", "median_s": ...}.
// Not a test: run.sh runs both and prints the ratio.
#include "host/core/host_api.hpp"
#include "host/model/model_runner.hpp"
#include "host/plugin_host/registry.hpp"
#include "tests/bench/random_rows.hpp"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <iostream>
#include <string>
#include <vector>

using namespace megaswift;

int main(int argc, char** argv) {
  std::string config_path = std::string(MSW_BENCH_DIR) + "/qwen2_20m.json";
  int threads = 0, steps = 5, warmup = 1;
  std::string recompute = "none";
  bool packed = false;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    auto next = [&]() -> std::string {
      if (i + 1 >= argc) {
        std::cerr << a << " needs a value\n";
        std::exit(2);
      }
      return argv[++i];
    };
    if (a == "--config") config_path = next();
    else if (a == "--threads") threads = std::stoi(next());
    else if (a == "--steps") steps = std::stoi(next());
    else if (a == "--warmup") warmup = std::stoi(next());
    else if (a == "--recompute") recompute = next();
    else if (a == "--packed") packed = true;
    else {
      std::cerr << "unknown flag " << a << "; flags: --config --threads --steps --warmup --recompute --packed\n";
      return 2;
    }
  }
  try {
    std::ifstream in(config_path);
    if (!in) throw std::runtime_error("cannot read " + config_path);
    const nlohmann::json cfg = nlohmann::json::parse(in);
    const int64_t b = cfg.at("bench_batch_size"), s = cfg.at("bench_seq_len"), vocab = cfg.at("vocab_size");

    host::PluginRegistry registry(host::host_api());
    registry.load_directories(host::PluginRegistry::search_path({}));
    host::RunnerOptions options;
    options.num_threads = threads;
    options.seed = 1234;
    options.layout.recompute = recompute;
    options.layout.packed = packed;
    host::ModelRunner runner = host::ModelRunner::from_hf_config(registry, cfg.dump(), options);

    const std::vector<host::Batch::Row> rows = bench::random_rows(b, s, vocab);
    const host::Batch batch = packed ? host::Batch::pack(rows) : host::Batch::pad(rows);

    std::vector<double> times;
    double loss = 0;
    for (int step = 0; step < warmup + steps; ++step) {
      runner.zero_grads();
      const auto t0 = std::chrono::steady_clock::now();
      loss = runner.forward_backward(batch).loss();
      const double dt = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
      if (step >= warmup) times.push_back(dt);
    }
    std::sort(times.begin(), times.end());
    const nlohmann::json out = {{"impl", "megaswift"},
                                {"threads", runner.exec_ctx().num_threads},
                                {"params", runner.num_parameters()},
                                {"batch", b},
                                {"seq", s},
                                {"recompute", recompute},
                                {"packed", packed},
                                {"loss", loss},
                                {"median_s", times[times.size() / 2]},
                                {"min_s", times.front()},
                                {"tokens_per_s", static_cast<double>(b * s) / times[times.size() / 2]}};
    std::cout << out.dump() << std::endl;
  } catch (const std::exception& e) {
    std::cerr << "cpu_step: " << e.what() << "\n";
    return 1;
  }
  return 0;
}
