// The parity checks every model suite runs on a fixture (see parity_checks.hpp).
#include "parity_checks.hpp"

#include "parity_support.hpp"

#include <doctest/doctest.h>

#include <cmath>
#include <cstring>
#include <set>

namespace megaswift::test {

namespace {

host::RunnerOptions options() {
  host::RunnerOptions o;
  o.num_threads = 2;
  return o;
}

}  // namespace

void check_parity(const host::PluginRegistry& registry, const std::string& name, const std::string& expected_plugin) {
  const auto dir = test::fixture_dir(name);
  host::ModelRunner runner = host::ModelRunner::from_hf_directory(registry, dir, options());
  CHECK(runner.plugin_name() == expected_plugin);

  const auto ref = host::SafetensorsCheckpoint::single_file(dir / "reference.safetensors");
  const auto ids_entry = ref.get("input_ids");
  host::Batch batch;
  batch.batch_size = ids_entry.entry->shape[0];
  batch.seq_len = ids_entry.entry->shape[1];
  batch.input_ids = test::read_values<int64_t>(ref, "input_ids");
  batch.labels = test::read_values<int64_t>(ref, "labels");
  const host::ForwardResult r = runner.forward_backward(batch, true);

  const auto logits = test::read_values<float>(ref, "logits");  // [B, S, V]
  REQUIRE(r.logits.size() == logits.size());
  const int64_t B = batch.batch_size, S = batch.seq_len, V = r.vocab;
  double max_diff = 0;
  for (int64_t b = 0; b < B; ++b)
    for (int64_t s = 0; s < S; ++s)
      for (int64_t v = 0; v < V; ++v)
        max_diff = std::max(max_diff, std::abs(double(r.logit(b, s, v)) - logits[static_cast<size_t>((b * S + s) * V + v)]));
  MESSAGE(name << ": logits max |diff| = " << max_diff);
  CHECK(max_diff < 1e-4);

  const double loss = test::read_values<float>(ref, "loss").at(0);
  MESSAGE(name << ": loss " << r.loss() << " vs transformers " << loss << " (diff " << std::abs(r.loss() - loss) << ")");
  CHECK(std::abs(r.loss() - loss) < 1e-5);

  const auto grads = host::SafetensorsCheckpoint::single_file(dir / "grads.safetensors");
  std::set<std::string> seen;
  double worst = 0;
  for (const auto& [hf_name, ours] : runner.export_hf(true)) {
    seen.insert(hf_name);
    REQUIRE_MESSAGE(grads.contains(hf_name), hf_name << " has no reference gradient");
    const auto theirs = test::read_values<float>(grads, hf_name);
    REQUIRE(theirs.size() == ours.size());
    double num = 0, den = 0;
    for (size_t i = 0; i < ours.size(); ++i) {
      num += (double(ours[i]) - theirs[i]) * (double(ours[i]) - theirs[i]);
      den += double(theirs[i]) * theirs[i];
    }
    const double rel = std::sqrt(num) / std::sqrt(den);
    INFO(name << ": gradient of " << hf_name << " relative error " << rel << " (reference norm " << std::sqrt(den) << ")");
    CHECK(den > 0);
    CHECK(rel < 1e-4);
    worst = std::max(worst, rel);
  }
  MESSAGE(name << ": worst gradient relative error " << worst << " over " << seen.size() << " tensors");
  for (const auto& n : grads.names()) CHECK_MESSAGE(seen.count(n), "reference gradient " << n << " was not produced");
}

void check_round_trip(const host::PluginRegistry& registry, const std::string& name) {
  const auto dir = test::fixture_dir(name);
  host::ModelRunner runner = host::ModelRunner::from_hf_directory(registry, dir, options());
  const host::SafetensorsCheckpoint weights(dir);
  std::set<std::string> seen;
  for (const auto& [hf_name, values] : runner.export_hf(false)) {
    seen.insert(hf_name);
    const auto ref = weights.get(hf_name);
    const auto bytes = ref.file->bytes(*ref.entry);
    REQUIRE(bytes.size() == values.size() * sizeof(float));
    CHECK_MESSAGE(std::memcmp(bytes.data(), values.data(), bytes.size()) == 0, hf_name << " changed in the round trip");
  }
  for (const auto& n : weights.names()) CHECK_MESSAGE(seen.count(n), n << " is not produced by the inverse mapping");
}


}  // namespace megaswift::test
