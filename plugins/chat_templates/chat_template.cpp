#include "chat_template.hpp"

#include "conversation.hpp"
#include "render_options.hpp"
#include "renderer.hpp"

namespace megaswift::chat_templates {

ChatTemplate::ChatTemplate(TemplateSpec spec, std::string_view config_json)
    : spec_(std::move(spec)), defaults_(parse_options_object(config_json, "config")) {
  resolve_options(defaults_, nlohmann::json::object());  // reject bad defaults at create time
  stop_words_ = spec_.all_stop_words();
}

void ChatTemplate::render(std::string_view conversation_json, std::string_view options_json,
                          sdk::RenderedTemplate& out) const {
  RenderOptions options = resolve_options(defaults_, parse_options_object(options_json, "options"));
  Conversation conversation = parse_conversation(conversation_json);
  chat_templates::render(spec_, conversation, options, out);
}

}  // namespace megaswift::chat_templates
