// The tokenizer and template instances of a run and the encoder that joins them. Shared (shared_ptr) by the
// datasets that encode with it, so a lazy dataset keeps them alive as long as training reads from it.
#pragma once

#include "host/data/encoder/sample_encoder.hpp"

#include <megaswift/sdk/template.hpp>
#include <megaswift/sdk/tokenizer.hpp>

#include <filesystem>
#include <memory>
#include <string>

namespace megaswift::host {
class PluginRegistry;
}

namespace megaswift::data {

class Encoding {
 public:
  // Creates the tokenizer of `model_dir` with the tokenizer plugin whose probe scores the directory highest
  // (hf_bpe for a Hugging Face tokenizer.json) and the template plugin `template_name` from the registry. Throws
  // DataPipelineError naming the model directory or the template when no plugin accepts the directory or a plugin
  // refuses, and TemplateMismatch when the two do not fit together.
  Encoding(const host::PluginRegistry& registry, const std::filesystem::path& model_dir,
           const std::string& template_name, EncoderOptions options);
  Encoding(const Encoding&) = delete;
  Encoding& operator=(const Encoding&) = delete;

  const sdk::TokenizerHandle& tokenizer() const { return *tokenizer_; }
  const sdk::TemplateHandle& chat_template() const { return *template_; }
  const SampleEncoder& encoder() const { return *encoder_; }
  const EncoderOptions& options() const { return options_; }
  const std::string& template_name() const { return template_name_; }
  const std::string& tokenizer_name() const { return tokenizer_name_; }  // the tokenizer component chosen

 private:
  std::string template_name_;
  std::string tokenizer_name_;
  EncoderOptions options_;
  std::unique_ptr<sdk::TokenizerHandle> tokenizer_;
  std::unique_ptr<sdk::TemplateHandle> template_;
  std::unique_ptr<SampleEncoder> encoder_;
};

}  // namespace megaswift::data
