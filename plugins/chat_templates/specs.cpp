// The first-party templates, with the layouts and defaults of ms-swift's registrations of the same
// names (swift/template/templates/{qwen,llama,llm,utils}.py and TemplateMeta.to_generate_template_meta).
#include "template_spec.hpp"

namespace megaswift::chat_templates {
namespace {

// A spec with its name; built by move so GCC 12 does not warn (-Wrestrict) about assigning a literal.
TemplateSpec named(std::string name) {
  TemplateSpec t;
  t.name = std::move(name);
  return t;
}

// model_types arrays (NULL-terminated, static: template.h hands them out for the life of the process).
constexpr const char* kAnyModel[] = {"*", nullptr};
constexpr const char* kQwenTypes[] = {"qwen2", "qwen2_moe", nullptr};
constexpr const char* kQwen2_5Types[] = {"qwen2", nullptr};
constexpr const char* kQwen3Types[] = {"qwen3", "qwen3_moe", nullptr};
constexpr const char* kLlamaTypes[] = {"llama", nullptr};
const std::vector<std::string> kChatMlSpecials = {"<|im_start|>", "<|im_end|>"};
const std::vector<std::string> kLlama3Specials = {"<|begin_of_text|>", "<|start_header_id|>", "<|end_header_id|>",
                                                  "<|eot_id|>"};

// ChatML as Qwen uses it: no BOS, "<|im_end|>\n" closes every turn, including the last.
TemplateSpec chatml(std::string name, std::optional<std::string> default_system) {
  auto p = [](std::string_view s) { return parse_pattern(s, kChatMlSpecials); };
  TemplateSpec t = named(std::move(name));
  t.system_prefix = p("<|im_start|>system\n{{SYSTEM}}<|im_end|>\n");
  t.prompt = p("<|im_start|>user\n{{QUERY}}<|im_end|>\n<|im_start|>assistant\n");
  t.chat_sep = p("<|im_end|>\n");
  t.suffix = p("<|im_end|>\n");
  t.default_system = std::move(default_system);
  t.stop_words = {"<|endoftext|>"};
  t.end_of_turn = "<|im_end|>";
  t.agent_format = AgentFormat::Hermes;  // ms-swift's agent template for the Qwen family, and Qwen's HF chat template
  return t;
}

}  // namespace

TemplateSpec qwen_spec() {
  TemplateSpec t = chatml("qwen", "You are a helpful assistant.");
  t.model_types = kQwenTypes;
  return t;
}

TemplateSpec qwen2_5_spec() {
  TemplateSpec t = chatml("qwen2_5", "You are Qwen, created by Alibaba Cloud. You are a helpful assistant.");
  t.model_types = kQwen2_5Types;
  return t;
}

// Qwen3's hybrid-thinking models: no default system; an answer without a think block gets the empty
// one, as the model itself writes when thinking is off.
TemplateSpec qwen3_spec() {
  TemplateSpec t = chatml("qwen3", std::nullopt);
  t.is_thinking = true;
  t.non_thinking_prefix = "<think>\n\n</think>\n\n";
  t.model_types = kQwen3Types;
  return t;
}

// Llama 3 Instruct. No default system prompt (ms-swift registers none for llama3).
TemplateSpec llama3_spec() {
  auto p = [](std::string_view s) { return parse_pattern(s, kLlama3Specials); };
  TemplateSpec t = named("llama3");
  t.prefix = p("<|begin_of_text|>");
  t.system_prefix = p("<|begin_of_text|><|start_header_id|>system<|end_header_id|>\n\n{{SYSTEM}}<|eot_id|>");
  t.prompt = p("<|start_header_id|>user<|end_header_id|>\n\n{{QUERY}}<|eot_id|>"
               "<|start_header_id|>assistant<|end_header_id|>\n\n");
  t.chat_sep = p("<|eot_id|>");
  t.suffix = p("<|eot_id|>");
  t.end_of_turn = "<|eot_id|>";
  t.model_types = kLlamaTypes;
  return t;
}

// ms-swift's `default`: a plain-text chat layout that needs no special tokens, for turning a base
// model into a chat model.
TemplateSpec default_spec() {
  TemplateSpec t = named("default");
  t.system_prefix = parse_pattern("{{SYSTEM}}\n\n", {});
  t.prompt = parse_pattern("### Human:\n{{QUERY}}\n\n### Assistant:\n", {});
  t.chat_sep = parse_pattern("\n\n", {});
  t.suffix = parse_pattern("{{EOS}}", {});
  t.default_system = "You are a helpful assistant.";
  t.auto_add_bos = true;
  t.model_types = kAnyModel;
  return t;
}

// What `megatron pt` trains on: [BOS] text EOS, no roles, no system.
TemplateSpec generative_spec() {
  TemplateSpec t = named("generative");
  t.prompt = parse_pattern("{{QUERY}}", {});
  t.chat_sep = std::nullopt;
  t.suffix = parse_pattern("{{EOS}}", {});
  t.auto_add_bos = true;
  t.use_chat_template = false;
  t.model_types = kAnyModel;
  return t;
}

}  // namespace megaswift::chat_templates
