// Loads the chat template plugin from the build tree through the host's registry, as `megatron`
// does, and shows a rendering as one string with the trained text in [[...]] (BOS/EOS as <BOS>/<EOS>).
#pragma once

#include <megaswift/sdk/template.hpp>

#include <memory>
#include <string>

namespace megaswift::test {

// A fresh instance of template `name` from libmegaswift_template_chat.so.
std::unique_ptr<sdk::TemplateHandle> make_template(const std::string& name, const std::string& config_json = "{}");
// The plugin's vtable, for tests of the raw C protocol.
const msw_template_vtable& template_vtable(const std::string& name);

std::string marked(const sdk::RenderedTemplate& r);

}  // namespace megaswift::test
