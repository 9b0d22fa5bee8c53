// megatron pt / megatron sft: everything a run needs, assembled from its parsed arguments, then the training loop.
//
//   model    --load DIR (a Megatron checkpoint; its config.json and tokenizer beside it, or --model's), else --model
//            DIR (a Hugging Face directory: its safetensors weights, or, when it has none, a model initialised from
//            scratch with --seed from its config.json)
//   data     the data pipeline (host/data/pipeline) -> the data loader (host/data/batching)
//   state    the optimizer plugin (--optimizer), the LR schedule, and under --load (without --finetune) the
//            iteration, optimizer, schedule, RNG and data position of the checkpoint
//   output   <save>[/v<N>-<YYYYMMDD-HHMMSS>]/ with args.json, data_summary.json, iter_XXXXXXX/, the tracker,
//            runs/ (TensorBoard) and images/ (loss curves)
#pragma once

#include "host/config/args.hpp"
#include "host/plugin_host/registry.hpp"
#include "host/training/trainer.hpp"

#include <filesystem>
#include <optional>

namespace megaswift::training {

struct RunOutcome {
  TrainingResult result;
  std::filesystem::path save_dir;  // the versioned directory; empty when nothing was saved
};

// `args` after config::resolve_derived_defaults. Throws HostError / ConfigError / data errors with messages for
// the user.
RunOutcome run_training(config::ParsedArgs args, const host::PluginRegistry& registry);

// <save>/v<N>-<YYYYMMDD-HHMMSS>, N one more than the largest v<N>- already there (v0 in an empty folder), as
// ms-swift names its runs.
std::filesystem::path versioned_save_dir(const std::filesystem::path& save);

}  // namespace megaswift::training
