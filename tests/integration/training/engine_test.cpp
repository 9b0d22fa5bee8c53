// The training engine's promises, each on the tiny model through the real binary: a resumed run continues
// bit-identically, padding-free batches give the padded batches' losses, NaN steps are skipped and stop the run
// after --max_consecutive_nan_steps, and SIGTERM stops after the current step (saving with --exit_signal_handler).
#include "training_fixture.hpp"

#include "test_paths.hpp"

#include <doctest/doctest.h>

#include <cmath>
#include <fstream>
#include <iterator>
#include <regex>

namespace fs = std::filesystem;
using namespace megaswift::test;

namespace {

// sft on the tiny model: 8 samples per step in 4 micro-batches of 2, AdamW, cosine with warm-up, clip 1.
std::string sft_flags(int iters, const std::string& schedule = "--lr 1e-3 --min_lr 1e-4 --lr_warmup_iters 2") {
  return "sft --model " + quote(tiny_model()) +
         " --dataset 'swift/self-cognition#48' 'megaswift/alpaca-mini-en#48' --model_author swift"
         " --model_name swift-robot --split_dataset_ratio 0 --train_iters " + std::to_string(iters) +
         " --micro_batch_size 2 --global_batch_size 8 " + schedule +
         " --max_length 256 --num_workers 2 --dataset_num_proc 2 --log_interval 1 --eval_iters 0";
}

}  // namespace

TEST_CASE("a run resumed from its iteration-5 checkpoint gives bit-identical losses and grad norms for steps 6-10") {
  const fs::path work = scratch() / "resume";
  fs::create_directories(work);
  auto r = megatron(sft_flags(10) + " --save " + quote(work / "a") + " --add_version false --save_interval 5",
                    "MEGASWIFT_DUMP_STEPS=" + quote(work / "a.jsonl"));
  INFO(r.output);
  REQUIRE(r.status == 0);
  CHECK(slurp(work / "a" / "latest_checkpointed_iteration.txt") == "10");

  // A copy of the run as it stood after iteration 5.
  fs::copy(work / "a", work / "b", fs::copy_options::recursive);
  fs::remove_all(work / "b" / "iter_0000010");
  std::ofstream(work / "b" / "latest_checkpointed_iteration.txt", std::ios::trunc) << "5";

  r = megatron(sft_flags(10) + " --load " + quote(work / "b") + " --save " + quote(work / "b") + " --add_version false",
               "MEGASWIFT_DUMP_STEPS=" + quote(work / "b.jsonl"));
  INFO(r.output);
  REQUIRE(r.status == 0);
  CHECK(r.output.find("resuming at iteration 5") != std::string::npos);
  const auto a = read_steps(work / "a.jsonl"), b = read_steps(work / "b.jsonl");
  REQUIRE(a.size() == 10);
  REQUIRE(b.size() == 5);
  for (size_t i = 0; i < 5; ++i) {
    CAPTURE(i);
    CHECK(b[i]["iteration"] == a[i + 5]["iteration"]);
    CHECK(b[i]["micro_batches"] == a[i + 5]["micro_batches"]);  // the same data order
    CHECK(b[i]["lr"].get<double>() == a[i + 5]["lr"].get<double>());
    CHECK(b[i]["loss"].get<double>() == a[i + 5]["loss"].get<double>());
    CHECK(b[i]["grad_norm"].get<double>() == a[i + 5]["grad_norm"].get<double>());
  }
  CHECK(slurp(work / "b" / "latest_checkpointed_iteration.txt") == "10");
}

TEST_CASE("padding-free (THD) batches give the padded batches' losses and grad norms within 1e-6") {
  const fs::path work = scratch() / "packed";
  fs::create_directories(work);
  for (const char* mode : {"true", "false"}) {
    auto r = megatron(sft_flags(3) + " --padding_free " + mode,
                      "MEGASWIFT_DUMP_STEPS=" + quote(work / (std::string(mode) + ".jsonl")));
    INFO(r.output);
    REQUIRE(r.status == 0);
  }
  const auto packed = read_steps(work / "true.jsonl"), padded = read_steps(work / "false.jsonl");
  REQUIRE(packed.size() == 3);
  REQUIRE(padded.size() == 3);
  for (size_t i = 0; i < 3; ++i) {
    CAPTURE(i);
    CHECK(packed[i]["micro_batches"] == padded[i]["micro_batches"]);
    for (const char* key : {"loss", "grad_norm"}) {
      const double x = packed[i][key].get<double>(), y = padded[i][key].get<double>();
      CHECK(std::abs(x - y) <= 1e-6 * std::abs(y));
    }
  }
}

TEST_CASE("--packing packs samples into rows of --max_length and trains on them") {
  auto r = megatron(sft_flags(3) + " --packing true", "MEGASWIFT_DUMP_STEPS=" + quote(scratch() / "packing.jsonl"));
  INFO(r.output);
  REQUIRE(r.status == 0);
  const auto steps = read_steps(scratch() / "packing.jsonl");
  REQUIRE(steps.size() == 3);
  // 8 packed rows per step, each holding several samples.
  size_t sequences = 0;
  for (const auto& mb : steps[0]["micro_batches"]) sequences += mb.size();
  CHECK(sequences > 8);
  CHECK(std::isfinite(steps[1]["loss"].get<double>()));
}

TEST_CASE("NaN/Inf steps are skipped with a warning, and --max_consecutive_nan_steps in a row stop the run") {
  const fs::path work = scratch() / "nan";
  // A learning rate this large sends the weights to overflow after the first update.
  auto r = megatron(sft_flags(10, "--lr 1e30 --lr_warmup_iters 0") + " --clip_grad 0 --max_consecutive_nan_steps 2"
                    " --save " + quote(work) + " --add_version false --save_interval 1");
  INFO(r.output);
  CHECK(r.status == 1);
  CHECK(r.output.find("the step is skipped") != std::string::npos);
  CHECK(r.output.find("steps in a row had a NaN/Inf loss or gradient norm") != std::string::npos);
  // What was saved holds no NaN: the tracker names a complete checkpoint of finite weights, or nothing was saved.
  if (fs::exists(work / "latest_checkpointed_iteration.txt")) {
    const std::string it = slurp(work / "latest_checkpointed_iteration.txt");
    CHECK(fs::is_directory(work / ("iter_" + std::string(7 - it.size(), '0') + it)));
  }
}

TEST_CASE("SIGTERM stops training after the current step, and --exit_signal_handler saves it first") {
  const fs::path work = scratch() / "sigterm";
  auto r = megaswift::testing::run_command(
      "cd " + quote(scratch()) + " && (" + quote(megaswift::testing::binary_dir() / "bin" / "megatron") + " " +
      sft_flags(100000) + " --save " + quote(work) + " --add_version false --exit_signal_handler true & pid=$!;"
      " while ! grep -q 'iteration        1/' " + quote(scratch() / "sigterm.log") + " 2>/dev/null; do sleep 0.2;"
      " kill -0 $pid 2>/dev/null || break; done; kill -TERM $pid; wait $pid; echo exit=$?) > " +
      quote(scratch() / "sigterm.log") + " 2>&1; cat " + quote(scratch() / "sigterm.log"));
  INFO(r.output);
  CHECK(r.output.find("SIGTERM received: training stops after iteration") != std::string::npos);
  CHECK(r.output.find("exit=1") != std::string::npos);
  REQUIRE(fs::exists(work / "latest_checkpointed_iteration.txt"));
  CHECK(std::stoll(slurp(work / "latest_checkpointed_iteration.txt")) >= 1);
}

TEST_CASE("each log line's TFLOP/s and tokens/s equal Megatron's FLOPs formula over the step's sequences per second") {
  const fs::path dump = scratch() / "throughput.jsonl";
  auto r = megatron(sft_flags(4), "MEGASWIFT_DUMP_STEPS=" + quote(dump));
  INFO(r.output);
  REQUIRE(r.status == 0);
  const auto steps = read_steps(dump);
  REQUIRE(steps.size() == 4);
  // The tiny model: L 2, h 64, 4 heads of 16, 2 query groups, FFN 128 (SwiGLU), vocabulary 151936.
  const double L = 2, h = 64, heads = 4, groups = 2, kv = 16, ffn = 128, V = 151936;
  auto megatron_flops = [&](double s) {  // Megatron-LM's num_floating_point_operations for batch 1, length s
    return 12 * s * L * h * h * ((1 + groups / heads + s / h) * (kv * heads / h) + ffn / h * 1.5 + V / (2 * L * h));
  };
  static const std::regex line_re(R"(iteration +(\d+)/ +4 \|.*elapsed time per iteration \(ms\): ([0-9.]+) \| )"
                                  R"(throughput per GPU \(TFLOP/s/GPU\): ([0-9.e+-]+) \| tokens per second per GPU: ([0-9.]+))");
  int checked = 0;
  for (auto it = std::sregex_iterator(r.output.begin(), r.output.end(), line_re); it != std::sregex_iterator(); ++it) {
    const auto& m = *it;
    const size_t i = std::stoul(m[1].str()) - 1;
    double flops = 0, tokens = 0;
    for (const auto& mb : steps[i]["micro_batches"])
      for (const auto& seq : mb) {
        const double s = static_cast<double>(seq["input_ids"].size());
        flops += megatron_flops(s);
        tokens += s;
      }
    const double seconds = std::stod(m[2].str()) / 1e3;
    CAPTURE(i);
    CHECK(std::stod(m[3].str()) == doctest::Approx(flops / seconds / 1e12).epsilon(2e-3));
    CHECK(std::stod(m[4].str()) == doctest::Approx(tokens / seconds).epsilon(2e-3));
    ++checked;
  }
  CHECK(checked == 4);
  CHECK(r.output.find("MFU") == std::string::npos);  // no peak to measure a CPU against
}

TEST_CASE("--recompute_granularity full trains bit-identically to keeping the activations") {
  const fs::path work = scratch() / "recompute";
  fs::create_directories(work);
  const std::string full = " --recompute_granularity full --recompute_method uniform --recompute_num_layers 1";
  for (const std::string& mode : {std::string(), full}) {
    auto r = megatron(sft_flags(3) + mode, "MEGASWIFT_DUMP_STEPS=" + quote(work / (mode.empty() ? "kept.jsonl" : "full.jsonl")));
    INFO(r.output);
    REQUIRE(r.status == 0);
  }
  const auto kept = read_steps(work / "kept.jsonl"), recomputed = read_steps(work / "full.jsonl");
  REQUIRE(kept.size() == 3);
  REQUIRE(recomputed.size() == 3);
  for (size_t i = 0; i < 3; ++i) {
    CAPTURE(i);
    CHECK(recomputed[i]["loss"].get<double>() == kept[i]["loss"].get<double>());
    CHECK(recomputed[i]["grad_norm"].get<double>() == kept[i]["grad_norm"].get<double>());
  }
}
