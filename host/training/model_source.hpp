// Where a run's model comes from: the directory with its config.json and tokenizer, and the weights — a Megatron
// checkpoint (--load), the Hugging Face safetensors of --model, or, when --model has none, an initialisation from
// --seed (pre-training from scratch).
#pragma once

#include "host/checkpoint/load.hpp"
#include "host/config/args.hpp"
#include "host/model/model_runner.hpp"
#include "host/plugin_host/registry.hpp"

#include <cstdint>
#include <filesystem>

namespace megaswift::training {

// --model when it is a local directory, else the --load directory (saves and exports copy config.json and the
// tokenizer beside the checkpoint). HostError naming the flag and the fix otherwise.
std::filesystem::path model_directory(const config::ParsedArgs& args);

// The model of `model_dir` with its weights: from `checkpoint` when given, else the directory's safetensors, else
// initialised from options.seed (logged, with a note when fine-tuning such a model).
host::ModelRunner build_model(const host::PluginRegistry& registry, const std::filesystem::path& model_dir,
                              const host::OpenCheckpoint* checkpoint, const host::RunnerOptions& options,
                              bool pretraining);

// The embedding must have a row for every id the tokenizer produces: HostError naming both sizes when config.json's
// vocab_size (`model_vocab`) is smaller than the tokenizer's vocabulary. Larger is normal (rows padded for speed).
void check_vocab_fits(int64_t model_vocab, int64_t tokenizer_vocab, const std::filesystem::path& model_dir);

}  // namespace megaswift::training
