// Which template plugin encodes the datasets, as ms-swift picks it:
//   - megatron pt: the generative template (ms-swift trains pt on the generation form of the model's template:
//     [bos] text eos, no roles; with the first-party templates that form is the same for every model).
//   - --template when given.
//   - otherwise the model's registered template. ms-swift matches the model directory's name against its list of
//     model ids, so the name decides first (Qwen2-* -> qwen, Qwen2.5-* -> qwen2_5, Qwen3-* -> qwen3,
//     Meta-Llama-3*/Llama-3.x-* -> llama3), and config.json's model_type settles unknown names
//     (qwen2 -> qwen2_5, the Qwen2 architecture's current generation; qwen2_moe -> qwen; qwen3, qwen3_moe -> qwen3;
//     llama -> llama3, the only Llama tokenizer hf_bpe reads).
#pragma once

#include "host/config/command.hpp"

#include <optional>
#include <string>

namespace megaswift::data {

struct ModelDirectory;

struct TemplateChoice {
  std::string name;  // a template plugin component name
  std::string why;   // for the log: "--template", "megatron pt", "the directory name 'Qwen2.5-7B-Instruct'", ...
};

// Throws DataPipelineError when neither --template nor the model says which template to use.
TemplateChoice choose_template(config::Command command, const std::optional<std::string>& template_flag,
                               const ModelDirectory& model);

}  // namespace megaswift::data
