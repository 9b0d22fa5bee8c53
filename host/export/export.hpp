// `swift export`: --to_mcore (HF directory -> Megatron checkpoint in --ckpt_format) and --to_hf (Megatron
// checkpoint -> HF directory), streamed: one Megatron parameter and its HF tensors are resident at a time
// (plus, for --to_hf, the output shard being filled), never the whole model.
#pragma once

#include "host/export/options.hpp"
#include "host/plugin_host/registry.hpp"

#include <nlohmann/json.hpp>

#include <cstdint>
#include <filesystem>

namespace megaswift::exporter {

struct ExportResult {
  std::filesystem::path output;  // the checkpoint's save directory or the HF directory
  uint64_t bytes = 0;            // tensor bytes written
  double seconds = 0;
};

// The checkpoint saved as iteration 1, as ms-swift's converter saves it (iter_0000001, tracker "1").
inline constexpr int64_t kExportIteration = 1;

ExportResult export_to_mcore(const ExportOptions& options, const host::PluginRegistry& registry);
ExportResult export_to_hf(const ExportOptions& options, const host::PluginRegistry& registry);

// The whole command: the conversion, then --test_convert_precision. Returns the process exit code.
int run_export(const nlohmann::json& values, const host::PluginRegistry& registry);

}  // namespace megaswift::exporter
