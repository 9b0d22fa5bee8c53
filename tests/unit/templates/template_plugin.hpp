// Loads the chat template plugin from the build tree through the host's registry, as `megatron`
// does, and shows a rendering as one string with the trained text in [[...]] (BOS/EOS as <BOS>/<EOS>).
#pragma once

#include <megaswift/sdk/template.hpp>

#include <memory>
#include <string>
#include <utility>
#include <vector>

namespace megaswift::test {

// A fresh instance of template `name` from libmegaswift_template_chat.so.
std::unique_ptr<sdk::TemplateHandle> make_template(const std::string& name, const std::string& config_json = "{}");
// The plugin's vtable, for tests of the raw C protocol.
const msw_template_vtable& template_vtable(const std::string& name);

std::string marked(const sdk::RenderedTemplate& r);

// A conversation JSON of (role, content) messages.
std::string conv(const std::vector<std::pair<std::string, std::string>>& messages);
// Template `name` rendering `conversation`, marked.
std::string render(const std::string& name, const std::string& conversation, const std::string& options = "{}");
// The status code of rendering `conversation` (MSW_STATUS_OK when it renders), with the message in `message`.
msw_status_code render_error(const std::string& name, const std::string& conversation,
                             const std::string& options = "{}", std::string* message = nullptr);

}  // namespace megaswift::test
