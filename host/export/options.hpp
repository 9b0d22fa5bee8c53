// What `swift export` was asked to do, read from the resolved flags.
#pragma once

#include "host/checkpoint/load.hpp"

#include <nlohmann/json.hpp>

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>

namespace megaswift::exporter {

struct ExportOptions {
  bool to_mcore = false, to_hf = false;
  std::filesystem::path model;        // --model: the HF source of --to_mcore
  std::filesystem::path mcore_model;  // --mcore_model: the Megatron source of --to_hf
  std::filesystem::path output_dir;
  std::optional<int32_t> dtype;       // --torch_dtype; unset: the source's
  std::string ckpt_format = "torch_dist";
  host::LoadOptions load;             // format detection for --to_hf
  uint64_t max_shard_size = 5'000'000'000ull;
  bool exist_ok = false;
  // --to_hf writes through the `safetensors` checkpoint plugin when it is loaded; true forces the host's own
  // writer (MEGASWIFT_EXPORT_HOST_WRITER=1; tests cover both paths).
  bool host_hf_writer = false;
  bool test_convert_precision = false;
  std::string test_convert_dtype = "float32";
  nlohmann::json args;                // every resolved flag, recorded in args.json
};

ExportOptions export_options(const nlohmann::json& values);

// "5GB" -> 5e9, "500MB", "2GiB", "1000" (bytes); HostError (INVALID_ARGUMENT) naming the flag otherwise.
uint64_t parse_size(const std::string& text);

// "12.3 MB/s"-style rate text.
std::string rate_text(double bytes, double seconds);

}  // namespace megaswift::exporter
