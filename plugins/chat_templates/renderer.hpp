// Renders a conversation with a TemplateSpec, following ms-swift's Template._swift_encode and its
// LossScale: which text goes where, and which of it carries loss.
#pragma once

#include "conversation.hpp"
#include "render_options.hpp"
#include "template_spec.hpp"

#include <megaswift/sdk/template.hpp>

namespace megaswift::chat_templates {

// Throws sdk::Error naming the problem (INVALID_ARGUMENT for a conversation that does not fit the
// mode, UNSUPPORTED for roles the template cannot render).
void render(const TemplateSpec& spec, const Conversation& conversation, const RenderOptions& options,
            sdk::RenderedTemplate& out);

}  // namespace megaswift::chat_templates
