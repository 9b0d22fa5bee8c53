// bf16 mixed precision through the model runner on the CPU backend: the plugin computes with bf16 weights and
// activations, the runner keeps fp32 main weights and fp32 gradients, the optimizer updates the main weights and
// the runner recasts the bf16 copies. 20 AdamW steps of the fixture models track the fp32 run's losses, and the
// compute weights are always the main weights rounded to bf16.
#include "host/core/host_api.hpp"
#include "host/core/status.hpp"
#include "host/model/model_runner.hpp"
#include "host/plugin_host/registry.hpp"
#include "test_paths.hpp"
#include "train_steps.hpp"

#include <megaswift/ckpt/convert.hpp>

#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <memory>

using namespace megaswift;

namespace {

const host::PluginRegistry& registry() {
  static const auto r = [] {
    auto reg = std::make_unique<host::PluginRegistry>(host::host_api());
    reg->load_directories({testing::plugin_dir()});
    return reg;
  }();
  return *r;
}

host::ModelRunner model(const std::string& name, int32_t dtype) {
  host::RunnerOptions o;
  o.num_threads = 2;
  o.compute_dtype = dtype;
  return host::ModelRunner::from_hf_directory(registry(), testing::source_dir() / "tests/fixtures/models" / name, o);
}

host::Batch::Row row(int64_t n, int64_t salt) {
  host::Batch::Row r;
  for (int64_t i = 0; i < n; ++i) {
    r.input_ids.push_back(3 + (i * 31 + salt * 7) % 250);
    r.labels.push_back(i % 5 == 0 ? -100 : 3 + (i * 17 + salt) % 250);
  }
  return r;
}

std::vector<host::Batch> batches() {
  const std::vector<host::Batch::Row> a = {row(13, 1), row(7, 2), row(16, 3)}, b = {row(11, 4), row(16, 5)};
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
  for (const host::Parameter& p : f32.params()) {
    CHECK(p.compute.data == p.value.data);
    CHECK(p.compute_buffer.size() == 0);
  }
}

TEST_CASE("a compute dtype that is not a float is refused with the dtypes the runner computes in") {
  host::RunnerOptions o;
  o.compute_dtype = MSW_DTYPE_I64;
  CHECK_THROWS_WITH_AS(host::ModelRunner::from_hf_directory(registry(), testing::source_dir() / "tests/fixtures/models/qwen2", o),
                       doctest::Contains("float32, bfloat16 or float16"), host::HostError);
}
