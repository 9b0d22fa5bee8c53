// One template component: a TemplateSpec plus the defaults from its create() config.
#pragma once

#include "template_spec.hpp"

#include <megaswift/sdk/template.hpp>
#include <nlohmann/json.hpp>

namespace megaswift::chat_templates {

class ChatTemplate : public sdk::Template {
 public:
  ChatTemplate(TemplateSpec spec, std::string_view config_json);

  void render(std::string_view conversation_json, std::string_view options_json,
              sdk::RenderedTemplate& out) const override;
  const char* default_system() const override { return spec_.default_system ? spec_.default_system->c_str() : nullptr; }
  const std::vector<std::string>& stop_words() const override { return stop_words_; }
  const char* end_of_turn() const override { return spec_.end_of_turn.empty() ? nullptr : spec_.end_of_turn.c_str(); }
  const char* const* model_types() const override { return spec_.model_types; }

 private:
  TemplateSpec spec_;
  nlohmann::json defaults_;
  std::vector<std::string> stop_words_;
};

// The component classes the plugin registers; each is constructible from the config text alone.
#define MSW_CHAT_TEMPLATE_CLASS(Class, make_spec)                                                \
  class Class : public ChatTemplate {                                                            \
   public:                                                                                       \
    explicit Class(std::string_view config_json) : ChatTemplate(make_spec(), config_json) {}    \
  };
MSW_CHAT_TEMPLATE_CLASS(QwenTemplate, qwen_spec)
MSW_CHAT_TEMPLATE_CLASS(Qwen2_5Template, qwen2_5_spec)
MSW_CHAT_TEMPLATE_CLASS(Qwen3Template, qwen3_spec)
MSW_CHAT_TEMPLATE_CLASS(Llama3Template, llama3_spec)
MSW_CHAT_TEMPLATE_CLASS(DefaultTemplate, default_spec)
MSW_CHAT_TEMPLATE_CLASS(GenerativeTemplate, generative_spec)
#undef MSW_CHAT_TEMPLATE_CLASS

}  // namespace megaswift::chat_templates
