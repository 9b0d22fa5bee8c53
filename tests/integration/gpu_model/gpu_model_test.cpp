// The fixture models on the GPU (fp32, every op on the CUDA backend) against the same models on the CPU: the loss,
// the logits and every parameter gradient of a padded and of a packed batch, and greedy KV-cache generation.
#include "host/core/host_api.hpp"
#include "host/cuda/cuda_backend.hpp"
#include "host/inference/generator.hpp"
#include "host/inference/kv_decoder.hpp"
#include "host/model/model_runner.hpp"
#include "host/plugin_host/registry.hpp"
#include "fixture_models.hpp"
#include "test_paths.hpp"

#include <doctest/doctest.h>

#include <cmath>
#include <memory>

using namespace megaswift;

namespace {

bool have_gpu() {
  static const bool yes = [] {
    if (host::cuda::device_count() == 0) return false;
    host::cuda::register_cuda_backend();
    return true;
  }();
  return yes;
}

host::ModelRunner model(const std::string& name, bool gpu) {
  host::RunnerOptions o;
  if (gpu) o.device = {MSW_DEVICE_CUDA, 0};
  return testing::fixture_model(name, o);
}

double rel_diff(const std::vector<float>& a, const std::vector<float>& b) {
  double num = 0, den = 0;
  for (size_t i = 0; i < a.size(); ++i) {
    num += (double(a[i]) - b[i]) * (double(a[i]) - b[i]);
    den += double(b[i]) * b[i];
  }
  return std::sqrt(num / std::max(den, 1e-30));
}

using testing::token_row;

}  // namespace

TEST_CASE("fixture models on the GPU in fp32: loss, logits and every gradient equal the CPU's (padded and packed)") {
  if (!have_gpu()) {
    MESSAGE("skipped: no CUDA device is visible");
    return;
  }
  for (const char* name : {"qwen2", "qwen2_5_tied", "llama3_1", "qwen3"}) {
    CAPTURE(name);
    host::ModelRunner cpu = model(name, false), gpu = model(name, true);
    for (bool packed : {false, true}) {
      CAPTURE(packed);
      const std::vector<host::Batch::Row> rows = {token_row(13, 1), token_row(7, 2), token_row(16, 3)};
      const host::Batch batch = packed ? host::Batch::pack(rows) : host::Batch::pad(rows);
      cpu.zero_grads();
      gpu.zero_grads();
      const host::ForwardResult a = cpu.forward_backward(batch, true);
      const host::ForwardResult b = gpu.forward_backward(batch, true);
      CHECK(a.token_count == b.token_count);
      CHECK(std::abs(a.loss() - b.loss()) <= 1e-5 * std::abs(a.loss()));
      CHECK(rel_diff(b.logits, a.logits) < 1e-5);
      for (size_t i = 0; i < cpu.params().size(); ++i) {
        const host::Parameter& p = cpu.params()[i];
        CAPTURE(p.name);
        CHECK(rel_diff(gpu.read_value(gpu.params()[i], true), cpu.read_value(p, true)) < 1e-4);
      }
    }
  }
}

TEST_CASE("greedy KV-cache generation on the GPU gives the CPU's tokens") {
  if (!have_gpu()) {
    MESSAGE("skipped: no CUDA device is visible");
    return;
  }
  host::ModelRunner cpu = model("qwen2", false), gpu = model("qwen2", true);
  const std::vector<std::vector<int64_t>> prompts = {{5, 9, 33, 71, 8}, {100, 3}, {42}};
  inference::GenerationOptions g;
  g.max_new_tokens = 32;
  inference::KvDecoder kc(cpu, 2, 40), kg(gpu, 2, 40);
  const auto a = inference::generate(kc, prompts, g), b = inference::generate(kg, prompts, g);
  for (size_t i = 0; i < prompts.size(); ++i) CHECK(a[i].tokens == b[i].tokens);
}
