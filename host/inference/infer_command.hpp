// `swift infer`: chat on the terminal or from a pipe (ms-swift's `<<< ` loop), or answer the conversations of
// --val_dataset/--infer_dataset together (--max_batch_size rows), writing every answer to --result_path (jsonl).
#pragma once

#include "host/config/args.hpp"
#include "host/plugin_host/registry.hpp"

#include <filesystem>

namespace megaswift::inference {

// Returns the process exit code (0 on success); errors are thrown (HostError and the data pipeline's).
int run_infer(const config::ParsedArgs& args, const host::PluginRegistry& registry);

// --result_path, or ms-swift's default: <mcore_model>/infer_result/<time>.jsonl for a checkpoint, else
// result/<model directory name>/infer_result/<time>.jsonl.
std::filesystem::path result_path(const config::ParsedArgs& args);

}  // namespace megaswift::inference
