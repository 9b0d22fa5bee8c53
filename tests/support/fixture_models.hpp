// The fixture models of tests/fixtures/models through the model runner: the first-party plugins loaded once from the
// build's plugin folder, a fixture model on any device and precision, and token rows drawn from a salt (fixed
// arithmetic sequences, so every suite can rebuild the same batches without a random generator).
#pragma once

#include "host/core/host_api.hpp"
#include "host/model/model_runner.hpp"
#include "host/plugin_host/registry.hpp"
#include "test_paths.hpp"

#include <memory>
#include <string>

namespace megaswift::testing {

inline const host::PluginRegistry& plugins() {
  static const auto r = [] {
    auto reg = std::make_unique<host::PluginRegistry>(host::host_api());
    reg->load_directories({plugin_dir()});
    return reg;
  }();
  return *r;
}

// tests/fixtures/models/<name> (an HF directory) on options.device in options.compute_dtype.
inline host::ModelRunner fixture_model(const std::string& name, host::RunnerOptions options = {}) {
  if (options.num_threads <= 0) options.num_threads = 2;
  return host::ModelRunner::from_hf_directory(plugins(), source_dir() / "tests/fixtures/models" / name, options);
}

// n tokens and labels (ids 3..252, inside every fixture vocabulary); every `ignore_every`-th label is -100.
inline host::Batch::Row token_row(int64_t n, int64_t salt, int64_t ignore_every = 5) {
  host::Batch::Row r;
  for (int64_t i = 0; i < n; ++i) {
    r.input_ids.push_back(3 + (i * 31 + salt * 7) % 250);
    r.labels.push_back(i % ignore_every == 0 ? -100 : 3 + (i * 17 + salt) % 250);
  }
  return r;
}

}  // namespace megaswift::testing
