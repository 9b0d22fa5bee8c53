#include "host/data/pipeline/model_dir.hpp"

#include "host/core/text_io.hpp"
#include "host/data/pipeline/error.hpp"

#include <megaswift/sdk/regular_file.hpp>
#include <string_view>
#include <system_error>

namespace megaswift::data {
namespace {

namespace fs = std::filesystem;

nlohmann::json read_config(const fs::path& file) {
  std::string text;
  try {  // a regular file only (a FIFO would block), bounded like every small text file the host reads
    text = sdk::read_regular_file(file.string(), "model config", host::kMaxTextFileBytes);
  } catch (const sdk::Error& e) {
    throw DataPipelineError(e.what());
  }
  nlohmann::json config = nlohmann::json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (config.is_discarded() || !config.is_object())
    throw DataPipelineError(file.string() + " is not a JSON object: the model directory looks damaged; copy the "
                            "model's config.json again");
  return config;
}

// The most positions any model config may claim (as nn::TransformerConfig's bound): past it a value is a typo or
// damage, and used as the default --max_length it would leave rows unbounded.
constexpr long long kMaxPositions = 1LL << 28;

// ms-swift's max_model_len: the smallest of the length keys config.json has. max_position_embeddings, which the
// model itself is built from, must make sense; the other keys are hints and are skipped when they do not.
std::optional<std::size_t> max_model_len(const nlohmann::json& config, const fs::path& file) {
  static constexpr const char* kKeys[] = {"seq_length",       "max_position_embeddings", "n_positions",
                                          "model_max_length", "seq_len",                 "max_seq_len",
                                          "max_sequence_length", "max_seq_length"};
  std::optional<std::size_t> best;
  for (const char* key : kKeys) {
    auto it = config.find(key);
    if (it == config.end() || it->is_null()) continue;
    const bool sensible = it->is_number_integer() && it->get<long long>() > 0 && it->get<long long>() <= kMaxPositions;
    if (!sensible) {
      if (std::string_view(key) != "max_position_embeddings") continue;
      throw DataPipelineError(file.string() + ": \"max_position_embeddings\" is " + it->dump() +
                              ", not a whole number of positions from 1 to " + std::to_string(kMaxPositions) +
                              ": the model's config.json is damaged; copy it again or fix the value");
    }
    auto value = it->get<std::size_t>();
    if (!best || value < *best) best = value;
  }
  return best;
}

}  // namespace

std::string ModelDirectory::name() const {
  fs::path p = dir;
  if (!p.has_filename()) p = p.parent_path();  // "models/Qwen2.5/" -> "models/Qwen2.5"
  return p.filename().string();
}

bool is_local_directory(const std::string& model) {
  std::error_code ec;
  return !model.empty() && fs::is_directory(model, ec);
}

ModelDirectory open_model_directory(const std::string& model) {
  std::error_code ec;
  if (model.empty()) throw DataPipelineError("--model is not set: pass the local Hugging Face model directory");
  if (!fs::is_directory(model, ec)) {
    if (fs::exists(model, ec))
      throw DataPipelineError("--model " + model + " is a file, not a directory: pass the Hugging Face model "
                              "directory that holds config.json and tokenizer.json");
    throw DataPipelineError("--model " + model + " is not a local directory. Megaswift does not download models; "
                            "pass a local directory (e.g. one made with `huggingface-cli download " + model +
                            " --local-dir <dir>` or `modelscope download`) that holds config.json and tokenizer.json");
  }
  ModelDirectory out;
  out.dir = fs::path(model);
  const fs::path config_file = out.dir / "config.json";
  // Absent is allowed (the tokenizer may still be there); present but not a regular file (a FIFO, a folder) is not.
  out.config = fs::exists(config_file, ec) ? read_config(config_file) : nlohmann::json::object();
  if (auto it = out.config.find("model_type"); it != out.config.end() && it->is_string())
    out.model_type = it->get<std::string>();
  out.max_model_len = max_model_len(out.config, config_file);
  return out;
}

}  // namespace megaswift::data
