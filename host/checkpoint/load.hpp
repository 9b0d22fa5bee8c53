// Loading a Megatron checkpoint directory (--load DIR / --mcore_model DIR): the tracker, the format (named by
// --ckpt_format or detected by the plugins' probe scores), the reader, the common state, what Megatron's
// --no_load_optim / --no_load_rng / --finetune keep of it, and the check of the stored tensors against the
// model about to be filled.
#pragma once

#include "host/checkpoint/format.hpp"

#include <nlohmann/json.hpp>

#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace megaswift::host {

struct LoadOptions {
  std::string ckpt_format = "torch_dist";  // used when auto_detect is false
  bool auto_detect = true;                 // --auto_detect_ckpt_format: highest probe score wins
  bool exit_on_missing = true;             // --exit_on_missing_checkpoint
  bool no_load_optim = false;
  bool no_load_rng = false;
  bool finetune = false;                   // no optimizer, no RNG, iteration 0
};

// What a run resumes from, after the flags.
struct ResumeState {
  int64_t iteration = 0;            // 0 under --finetune
  bool load_optimizer = false;      // optimizer tensors ("optimizer.*") and opt_param_scheduler are restored
  nlohmann::json opt_param_scheduler;  // null when not restored
  nlohmann::json rng_state;            // null when not restored
  nlohmann::json data_state;           // null under --finetune
};

struct OpenCheckpoint {
  std::filesystem::path load_dir;  // what --load named
  std::filesystem::path dir;       // <load_dir>/iter_XXXXXXX
  int64_t iteration = 0;           // the tracker's (-1: release)
  std::unique_ptr<CheckpointFormat> format;
  std::unique_ptr<CheckpointReader> reader;
  nlohmann::json common;           // the common state as stored
  ResumeState resume;
};

// Picks the format of `dir`: auto_detect asks every loaded checkpoint plugin's probe and takes the highest
// score (HostError listing each format and its score when none recognises it); otherwise options.ckpt_format.
std::unique_ptr<CheckpointFormat> choose_format(const PluginRegistry& registry, const std::filesystem::path& dir,
                                                const LoadOptions& options);

// Opens the checkpoint that `load_dir` holds. A missing tracker file is a HostError naming it, or, with
// exit_on_missing false, a warning and nullopt (a fresh start).
std::optional<OpenCheckpoint> open_checkpoint(const PluginRegistry& registry, const std::filesystem::path& load_dir,
                                              const LoadOptions& options);

// The resume state that `common` yields under the flags.
ResumeState resume_state(const nlohmann::json& common, int64_t iteration, const LoadOptions& options);

// A tensor the model expects in a checkpoint.
struct ExpectedTensor {
  std::string key;
  std::vector<int64_t> global_shape;
};

// Every expected tensor must be stored with its shape; errors name the key, the expected and the found shape.
// When most keys are missing the checkpoint is reported as one of another model (`model` names the model,
// `recorded` what the checkpoint's args say it holds).
void check_tensors(const CheckpointReader& reader, const std::vector<ExpectedTensor>& expected, const std::string& model,
                   const std::string& recorded);

}  // namespace megaswift::host
