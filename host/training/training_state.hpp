// A training checkpoint beyond the weights: the optimizer states and the common state (iteration, args, the
// schedule, the RNG counter, the data position, the optimizer record) written through a checkpoint plugin, and
// restoring the optimizer and schedule of a resumed run.
#pragma once

#include "host/checkpoint/format.hpp"
#include "host/checkpoint/load.hpp"
#include "host/data/batching/data_loader.hpp"
#include "host/model/model_runner.hpp"
#include "host/training/lr_scheduler.hpp"
#include "host/training/optimizer_driver.hpp"

#include <nlohmann/json.hpp>

#include <cstdint>
#include <filesystem>

namespace megaswift::training {

struct SaveSettings {
  std::filesystem::path save_dir;
  std::filesystem::path model_dir;  // its config.json and tokenizer are copied beside the checkpoints
  bool save_optimizer = true;       // !--no_save_optim
  bool save_rng = true;             // !--no_save_rng
  uint64_t seed = 0;
  nlohmann::json args_json;         // args.json
  nlohmann::json checkpoint_args;   // the common state's args (the run's with the model's config over them)
};

// What is trained, as a save reads it.
struct TrainingParts {
  const host::ModelRunner& runner;
  const OptimizerDriver& optimizer;
  const LrScheduler& scheduler;
  const data::DataLoader& train;
};

// Saves the state after `iteration` atomically (host/checkpoint/save.hpp); returns the iteration directory.
std::filesystem::path save_training_checkpoint(const host::CheckpointFormat& format, const SaveSettings& settings,
                                               int64_t iteration, const TrainingParts& parts);

// Restores the optimizer states and the schedule when the checkpoint's resume state asks for them, and the
// runner's RNG counter when it is saved.
void restore_training_state(const host::OpenCheckpoint& checkpoint, host::ModelRunner& runner,
                            OptimizerDriver& optimizer, LrScheduler& scheduler);

}  // namespace megaswift::training
