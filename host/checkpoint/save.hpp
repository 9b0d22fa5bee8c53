// One checkpoint save in Megatron's layout (layout.hpp): the format plugin writes into the temporary directory
// through `write`, then the host commits the format, writes args.json and copies the model files into the
// save directory, renames the iteration directory into place and replaces the tracker last.
#pragma once

#include "host/checkpoint/format.hpp"

#include <nlohmann/json.hpp>

#include <cstdint>
#include <filesystem>
#include <functional>
#include <string>

namespace megaswift::host {

struct SaveRequest {
  std::filesystem::path save_dir;
  int64_t iteration = 0;
  nlohmann::json common;          // the common state (model_io.hpp common_state)
  nlohmann::json args;            // written to <save_dir>/args.json; null: not written
  std::filesystem::path model_dir;  // HF files (config.json, tokenizer) copied into <save_dir>; empty: none
};

// Returns the final iteration directory.
std::filesystem::path save_checkpoint(const CheckpointFormat& format, const SaveRequest& request,
                                      const std::function<void(CheckpointFormat::Writer&)>& write);

}  // namespace megaswift::host
