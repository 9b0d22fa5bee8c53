// bf16 mixed precision through the model runner on the CPU backend: the plugin computes with bf16 weights and
// activations, the runner keeps fp32 main weights and fp32 gradients, the optimizer updates the main weights and
// the runner recasts the bf16 copies. 20 AdamW steps of the fixture models track the fp32 run's losses, and the
// compute weights are always the main weights rounded to bf16.
#include "host/core/host_api.hpp"
#include "host/core/status.hpp"
#include "host/model/model_runner.hpp"
#include "host/plugin_host/registry.hpp"
#include "fixture_models.hpp"
#include "test_paths.hpp"
#include "host/training/optimizer_driver.hpp"
#include "train_steps.hpp"

#include <megaswift/ckpt/convert.hpp>

#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <cstring>

using namespace megaswift;

namespace {

host::ModelRunner model(const std::string& name, int32_t dtype) {
  host::RunnerOptions o;
  o.compute_dtype = dtype;
  return testing::fixture_model(name, o);
}

const host::PluginRegistry& registry() { return testing::plugins(); }

using testing::token_row;

std::vector<host::Batch> batches() {
  const std::vector<host::Batch::Row> a = {token_row(13, 1), token_row(7, 2), token_row(16, 3)},
                                      b = {token_row(11, 4), token_row(16, 5)};
  return {host::Batch::pad(a), host::Batch::pack(b)};
}

}  // namespace

TEST_CASE("bf16 mixed precision on the CPU: 20 AdamW steps track the fp32 losses within 2e-2 (padded and packed)") {
  for (const char* name : {"qwen2", "qwen2_5_tied", "qwen3"}) {
    CAPTURE(name);
    host::ModelRunner f32 = model(name, MSW_DTYPE_F32), bf16 = model(name, MSW_DTYPE_BF16);
    CHECK(bf16.compute_dtype() == MSW_DTYPE_BF16);
    const testing::StepLog ref = testing::train_steps(registry(), f32, batches(), 20);
    const testing::StepLog got = testing::train_steps(registry(), bf16, batches(), 20);
    double worst = 0;
    for (size_t s = 0; s < ref.losses.size(); ++s) {
      CAPTURE(s);
      const double rel = std::abs(got.losses[s] - ref.losses[s]) / ref.losses[s];
      CHECK(rel < 2e-2);
      worst = std::max(worst, rel);
    }
    MESSAGE(name << ": largest relative loss difference bf16 vs fp32 over 20 steps " << worst);
    // bf16 rounding does change the numbers: a run that silently computed in fp32 would be identical.
    CHECK(worst > 1e-5);
    // Training moved the weights: the last losses are well below the first (both runs learn the same batches).
    CHECK(got.losses.back() < 0.8 * got.losses.front());
    CHECK(ref.losses.back() < 0.8 * ref.losses.front());
  }
}

TEST_CASE("bf16 mixed precision: the compute weights are the fp32 main weights rounded to bf16 after every update") {
  host::ModelRunner bf16 = model("qwen2", MSW_DTYPE_BF16);
  testing::train_steps(registry(), bf16, batches(), 3);
  // The recast happens before the next compute call; a forward triggers it.
  bf16.forward(batches()[0]);
  int64_t checked = 0;
  for (const host::Parameter& p : bf16.params()) {
    CAPTURE(p.name);
    REQUIRE(p.compute.dtype == MSW_DTYPE_BF16);
    REQUIRE(p.value.dtype == MSW_DTYPE_F32);
    REQUIRE(p.grad.dtype == MSW_DTYPE_F32);
    REQUIRE(p.compute.data != p.value.data);
    const std::vector<float> main = bf16.read_value(p);
    const auto* half = static_cast<const uint16_t*>(p.compute.data);
    for (size_t i = 0; i < main.size(); ++i) {
      if (half[i] != ckpt::f32_to_bf16(main[i])) {
        FAIL_CHECK("element " << i << ": compute " << half[i] << " vs rounded main " << ckpt::f32_to_bf16(main[i]));
        break;
      }
      ++checked;
    }
  }
  CHECK(checked == bf16.num_parameters());
}

TEST_CASE("an fp32 run's compute weights are its main weights (no copy is kept)") {
  host::ModelRunner f32 = model("qwen2", MSW_DTYPE_F32);
  for (const host::Parameter& p : f32.params()) CHECK(p.compute.data == p.value.data);
  // Values and gradients only, fp32: no third arena.
  CHECK(f32.parameter_bytes() == 2 * sizeof(float) * static_cast<uint64_t>(f32.arena_elements()));
  host::ModelRunner bf16 = model("qwen2", MSW_DTYPE_BF16);
  CHECK(bf16.parameter_bytes() == (2 * sizeof(float) + 2) * static_cast<uint64_t>(bf16.arena_elements()));
}

TEST_CASE("a compute dtype that is not a float is refused with the dtypes the runner computes in") {
  host::RunnerOptions o;
  o.compute_dtype = MSW_DTYPE_I64;
  CHECK_THROWS_WITH_AS(host::ModelRunner::from_hf_directory(registry(), testing::source_dir() / "tests/fixtures/models/qwen2", o),
                       doctest::Contains("float32, bfloat16 or float16"), host::HostError);
}

namespace {

// AdamW steps as the trainer takes them under fp16 loss scaling: backward of the scaled loss, the unscaled norm,
// an overflowing step skipped. Returns the losses of the steps taken and the number skipped.
struct Fp16Log {
  std::vector<double> losses;
  int skipped = 0;
};
Fp16Log train_fp16(host::ModelRunner& runner, double initial_scale, int steps) {
  training::OptimizerDriver opt(registry().require(MSW_KIND_OPTIMIZER, "adam"),
                                {{"adam_beta1", 0.9}, {"adam_beta2", 0.95}, {"adam_eps", 1e-8}}, runner);
  training::LossScalerOptions so;
  so.initial_scale = initial_scale;
  opt.enable_loss_scaling(so);
  Fp16Log log;
  const std::vector<host::Batch> b = batches();
  for (int s = 0; s < steps; ++s) {
    runner.zero_grads();
    const host::ForwardResult r = runner.forward(b[static_cast<size_t>(s) % b.size()]);
    runner.backward(opt.loss_scale() / static_cast<double>(r.token_count));
    const double norm = opt.grad_norm();
    if (opt.skip_overflow(norm)) {
      ++log.skipped;
      continue;
    }
    opt.step(norm, 1e-3, 0.01, 1.0);
    log.losses.push_back(r.loss());
  }
  return log;
}

}  // namespace

TEST_CASE("fp16 with dynamic loss scaling on the CPU: 20 steps at scale 2^12 track the fp32 losses within 2e-2") {
  host::ModelRunner f32 = model("qwen2", MSW_DTYPE_F32), f16 = model("qwen2", MSW_DTYPE_F16);
  const testing::StepLog ref = testing::train_steps(registry(), f32, batches(), 20);
  const Fp16Log got = train_fp16(f16, 4096.0, 20);
  CHECK(got.skipped == 0);
  REQUIRE(got.losses.size() == ref.losses.size());
  double worst = 0;
  for (size_t s = 0; s < ref.losses.size(); ++s) worst = std::max(worst, std::abs(got.losses[s] - ref.losses[s]) / ref.losses[s]);
  MESSAGE("fp16 (loss scale 4096) vs fp32: largest relative loss difference over 20 steps " << worst);
  CHECK(worst < 2e-2);
  CHECK(worst > 1e-6);
}

TEST_CASE("fp16 loss scaling: gradients that overflow skip the step, leave the weights alone and back the scale off") {
  host::ModelRunner f16 = model("qwen2", MSW_DTYPE_F16);
  const std::vector<float> before = f16.read_value(f16.params()[1]);
  // 2^40 times the loss overflows fp16's range (65504) in the first backward: the scale must come down by 2^24 or
  // so, with hysteresis 2, before a step is taken.
  const Fp16Log log = train_fp16(f16, 1099511627776.0, 6);
  CHECK(log.skipped == 6);
  CHECK(log.losses.empty());
  CHECK(f16.read_value(f16.params()[1]) == before);
  const Fp16Log settled = train_fp16(f16, 1099511627776.0, 80);
  CHECK(settled.skipped > 10);
  CHECK(settled.skipped < 80);
  CHECK(settled.losses.back() < settled.losses.front());
}
