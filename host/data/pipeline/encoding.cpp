#include "host/data/pipeline/encoding.hpp"

#include "host/core/host_api.hpp"
#include "host/core/status.hpp"
#include "host/data/pipeline/error.hpp"
#include "host/data/pipeline/tokenizer_files.hpp"
#include "host/plugin_host/registry.hpp"
#include "host/plugin_host/tokenizer_choice.hpp"

#include <nlohmann/json.hpp>
#include <spdlog/spdlog.h>

namespace megaswift::data {

Encoding::Encoding(const host::PluginRegistry& registry, const std::filesystem::path& model_dir,
                   const std::string& template_name, EncoderOptions options)
    : template_name_(template_name), options_(std::move(options)) {
  require_regular_tokenizer_files(model_dir);
  // The tokenizer plugin that reads the directory best (its probe), not a fixed name.
  host::TokenizerChoice choice;
  try {
    choice = host::choose_tokenizer(registry, model_dir);
  } catch (const host::HostError& e) {
    if (auto damaged = damaged_tokenizer_file(model_dir)) throw DataPipelineError("--model: " + *damaged);
    throw DataPipelineError(std::string("--model: ") + e.what() + ". Megaswift does not download models; pass a "
                            "local directory with the model's tokenizer files (tokenizer.json and "
                            "tokenizer_config.json for Hugging Face models), e.g. the full download from the hub");
  }
  const host::LoadedComponent& tok = *choice.component;
  tokenizer_name_ = tok.name;
  spdlog::debug("data: tokenizer '{}' for {} ({})", tok.name, model_dir.string(), choice.why);
  try {
    tokenizer_ = std::make_unique<sdk::TokenizerHandle>(host::PluginRegistry::vtable_copy<msw_tokenizer_vtable>(tok),
                                                        host::host_api(),
                                                        nlohmann::json{{"model_dir", model_dir.string()}}.dump());
  } catch (const std::exception& e) {
    throw DataPipelineError("the tokenizer of " + model_dir.string() + " cannot be loaded by tokenizer plugin '" +
                            tok.name + "' (" + tok.library_path.string() + "): " + e.what());
  }
  // Every text would encode to nothing (or to ids no embedding row has): refuse it here, naming the files.
  if (const int32_t vocab = tokenizer_->vocab_size(); vocab <= 0)
    throw DataPipelineError("the tokenizer of " + model_dir.string() + " (tokenizer plugin '" + tok.name +
                            "') has an empty vocabulary (vocab_size " + std::to_string(vocab) +
                            "): its tokenizer files look damaged; copy tokenizer.json and tokenizer_config.json "
                            "from the model's original download again");
  const auto& tmpl = registry.require(MSW_KIND_TEMPLATE, template_name);
  try {
    template_ = std::make_unique<sdk::TemplateHandle>(host::PluginRegistry::vtable_copy<msw_template_vtable>(tmpl),
                                                      host::host_api(), "{}");
  } catch (const std::exception& e) {
    throw DataPipelineError("template '" + template_name + "' (" + tmpl.library_path.string() +
                            ") cannot be created: " + e.what());
  }
  encoder_ = std::make_unique<SampleEncoder>(*template_, *tokenizer_, options_);
}

}  // namespace megaswift::data
