#include "host/training/model_source.hpp"

#include "host/checkpoint/model_io.hpp"
#include "host/core/out_of_memory.hpp"
#include "host/core/status.hpp"
#include "host/core/text_io.hpp"

#include <spdlog/spdlog.h>

namespace fs = std::filesystem;
using nlohmann::json;

namespace megaswift::training {
namespace {

std::optional<std::string> text(const config::ParsedArgs& a, const char* key) {
  const json& v = a.at(key);
  return v.is_string() ? std::optional<std::string>(v.get<std::string>()) : std::nullopt;
}

bool has_weights(const fs::path& dir) {
  return fs::exists(dir / "model.safetensors") || fs::exists(dir / "model.safetensors.index.json");
}

}  // namespace

fs::path model_directory(const config::ParsedArgs& a) {
  const auto model = text(a, "model");
  std::error_code ec;
  if (model && fs::is_directory(*model, ec)) return *model;
  // A --model that exists but is a file (config.json, the weights) is a mistake whatever --load says.
  if (model && fs::exists(*model, ec))
    throw host::HostError(MSW_STATUS_INVALID_ARGUMENT,
                          "--model " + *model + " is a file, not a directory: pass the Hugging Face model directory "
                          "that holds config.json, the tokenizer files and the safetensors weights");
  const auto load = text(a, "load");
  if (load && fs::exists(fs::path(*load) / "config.json", ec)) {
    // Megatron-SWIFT runs name the hub id in --model beside --load; the checkpoint's own config.json and tokenizer
    // serve, but the user hears that --model was not used.
    if (model)
      spdlog::warn("--model {} does not exist as a local directory (Megaswift does not download models); using the "
                   "config.json and tokenizer beside the checkpoint in --load {}",
                   *model, *load);
    return *load;
  }
  if (model)
    throw host::HostError(MSW_STATUS_NOT_FOUND,
                          "--model " + *model + " is not a local directory; Megaswift does not download models: pass a "
                          "Hugging Face model directory (config.json, tokenizer files, safetensors weights)" +
                              (load ? " or a --load directory with config.json beside the checkpoint" : std::string()));
  if (load)
    throw host::HostError(MSW_STATUS_NOT_FOUND, "--load " + *load +
                                                    " has no config.json beside the checkpoint; pass --model <the Hugging "
                                                    "Face directory the checkpoint was converted from> for its config "
                                                    "and tokenizer");
  throw host::HostError(MSW_STATUS_INVALID_ARGUMENT,
                        "nothing to train: pass --model <Hugging Face directory> or --load <Megatron checkpoint directory>");
}

namespace {

host::ModelRunner build_model_unnamed(const host::PluginRegistry& registry, const fs::path& model_dir,
                                      const host::OpenCheckpoint* ckpt, const host::RunnerOptions& options,
                                      bool pretraining) {
  const std::string hf_text = host::read_text_file(model_dir / "config.json", "model config");
  if (ckpt) {
    host::ModelRunner runner = host::ModelRunner::from_hf_config(registry, hf_text, options);
    host::load_parameters(runner, *ckpt->reader, host::recorded_model(ckpt->common));
    spdlog::info("model: {} weights from {} (iteration {}, format {})", runner.plugin_name(), ckpt->dir.string(),
                 ckpt->iteration, ckpt->format->name());
    return runner;
  }
  if (has_weights(model_dir)) {
    host::ModelRunner runner = host::ModelRunner::from_hf_directory(registry, model_dir, options);
    spdlog::info("model: {} weights from the Hugging Face directory {}", runner.plugin_name(), model_dir.string());
    return runner;
  }
  host::ModelRunner runner = host::ModelRunner::from_hf_config(registry, hf_text, options);
  spdlog::info("model: {} from {}'s config.json, initialised from scratch with --seed {} ({} has no safetensors "
               "weights){}",
               runner.plugin_name(), model_dir.string(), options.seed, model_dir.string(),
               pretraining ? "" : "; fine-tuning a randomly initialised model is rarely what you want");
  return runner;
}

}  // namespace

host::ModelRunner build_model(const host::PluginRegistry& registry, const fs::path& model_dir,
                              const host::OpenCheckpoint* ckpt, const host::RunnerOptions& options, bool pretraining) {
  return host::naming_out_of_memory("building the model of " + model_dir.string(), [&] {
    return build_model_unnamed(registry, model_dir, ckpt, options, pretraining);
  });
}

void check_vocab_fits(int64_t model_vocab, int64_t tokenizer_vocab, const fs::path& model_dir) {
  if (tokenizer_vocab <= model_vocab) return;
  throw host::HostError(MSW_STATUS_INVALID_ARGUMENT,
                        model_dir.string() + "/config.json: vocab_size " + std::to_string(model_vocab) +
                            " is smaller than the tokenizer's vocabulary (" + std::to_string(tokenizer_vocab) +
                            " tokens): token ids from " + std::to_string(model_vocab) +
                            " up would have no embedding row. Use the config.json and tokenizer of one model (set "
                            "vocab_size to at least " + std::to_string(tokenizer_vocab) + " when training from scratch)");
}

}  // namespace megaswift::training
