#include "host/data/pipeline/encoding.hpp"

#include "host/core/host_api.hpp"
#include "host/data/pipeline/error.hpp"
#include "host/plugin_host/registry.hpp"

#include <nlohmann/json.hpp>

namespace megaswift::data {

Encoding::Encoding(const host::PluginRegistry& registry, const std::filesystem::path& model_dir,
                   const std::string& template_name, EncoderOptions options)
    : template_name_(template_name), options_(std::move(options)) {
  const auto& tok = registry.require(MSW_KIND_TOKENIZER, "hf_bpe");
  try {
    tokenizer_ = std::make_unique<sdk::TokenizerHandle>(host::PluginRegistry::vtable_copy<msw_tokenizer_vtable>(tok),
                                                        host::host_api(),
                                                        nlohmann::json{{"model_dir", model_dir.string()}}.dump());
  } catch (const std::exception& e) {
    throw DataPipelineError("the tokenizer of " + model_dir.string() + " cannot be loaded: " + e.what());
  }
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
