#include "host/cli/stage_commands.hpp"

#include "host/cli/frontend.hpp"
#include "host/cli/plugin_loading.hpp"
#include "host/checkpoint/format.hpp"
#include "host/export/export.hpp"
#include "host/inference/infer_command.hpp"
#include "host/config/config.hpp"
#include "host/core/logging.hpp"
#include "host/data/pipeline/model_dir.hpp"
#include "host/data/pipeline/training_data.hpp"
#include "host/training/run_training.hpp"

#include <spdlog/spdlog.h>

#include <iostream>

namespace megaswift::cli {
namespace {

// --ckpt_format names a checkpoint plugin. A first-party name whose plugin is simply not in this build passes
// (the stage reports what is missing later, as before); any other name must be a loaded plugin.
void check_ckpt_format(const nlohmann::json& values, const host::PluginRegistry& registry) {
  if (!values.contains("ckpt_format") || !values["ckpt_format"].is_string()) return;
  const std::string name = values["ckpt_format"].get<std::string>();
  if (registry.find(MSW_KIND_CHECKPOINT, name)) return;
  for (const char* first_party : {"torch", "torch_dist", "zarr", "safetensors", "hdf5"})
    if (name == first_party) return;
  host::require_checkpoint_format(registry, name);  // throws, listing the available formats
}

// Parses and validates a stage's flags, sets up logging and the plugins, then runs the stage (pt/sft: the
// training engine; export: conversion) or reports which part of the pipeline this build does not have yet
// (`missing`, for the stages still to come).
int run_stage(config::Command command, const std::vector<std::string>& args, const char* missing) {
  config::ParsedArgs parsed = config::parse_command_line(command, args);
  if (parsed.help_requested) {
    std::cout << config::help_text(command);
    return kOk;
  }
  config::resolve_derived_defaults(parsed);

  const auto& values = parsed.values;
  auto text = [&](const char* key) { return values.contains(key) && values[key].is_string() ? values[key].get<std::string>() : std::string(); };
  host::init_logging(0, text("logging_level"));
  std::vector<std::string> plugin_path;
  if (values.contains("plugin_path") && values["plugin_path"].is_array())
    plugin_path = values["plugin_path"].get<std::vector<std::string>>();
  auto registry = load_plugins(plugin_path);
  spdlog::info("{}: arguments parsed and validated ({} plugin components loaded)", config::command_name(command),
               registry->all().size());
  spdlog::debug("resolved arguments: {}", values.dump());
  check_ckpt_format(values, *registry);
  if (command == config::Command::export_model) return exporter::run_export(values, *registry);
  if (command == config::Command::infer) return inference::run_infer(parsed, *registry);
  if (command == config::Command::pt || command == config::Command::sft) {
    const training::RunOutcome outcome = training::run_training(parsed, *registry);
    if (outcome.result.interrupted) return kFailed;  // stopped by a signal: not a finished run
    return kOk;
  }

  std::cerr << config::command_name(command) << ": " << missing << "\n";
  return kNotBuilt;
}

}  // namespace

int run_pt(const std::vector<std::string>& args) { return run_stage(config::Command::pt, args, nullptr); }

int run_sft(const std::vector<std::string>& args) { return run_stage(config::Command::sft, args, nullptr); }

int run_export(const std::vector<std::string>& args) {
  return run_stage(config::Command::export_model, args,
                   "checkpoint conversion (HF <-> Megatron) is not part of this build yet; the arguments were parsed "
                   "and validated, nothing was written");
}

int run_infer(const std::vector<std::string>& args) { return run_stage(config::Command::infer, args, nullptr); }

}  // namespace megaswift::cli
