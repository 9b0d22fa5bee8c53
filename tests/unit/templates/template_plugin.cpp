#include "template_plugin.hpp"

#include "host/core/host_api.hpp"
#include "host/plugin_host/registry.hpp"

#include <nlohmann/json.hpp>

#include <filesystem>
#include <map>
#include <mutex>
#include <stdexcept>

namespace megaswift::test {
namespace {

host::PluginRegistry& registry() {
  static host::PluginRegistry* r = [] {
    auto* reg = new host::PluginRegistry(host::host_api());
    reg->load_library(std::filesystem::path(MSW_PLUGIN_BUILD_DIR) / "libmegaswift_template_chat.so");
    return reg;
  }();
  return *r;
}

}  // namespace

const msw_template_vtable& template_vtable(const std::string& name) {
  static std::mutex mu;
  static std::map<std::string, msw_template_vtable> cache;
  std::lock_guard lock(mu);
  auto it = cache.find(name);
  if (it == cache.end()) {
    const auto& c = registry().require(MSW_KIND_TEMPLATE, name);
    it = cache.emplace(name, host::PluginRegistry::vtable_copy<msw_template_vtable>(c)).first;
  }
  return it->second;
}

std::unique_ptr<sdk::TemplateHandle> make_template(const std::string& name, const std::string& config_json) {
  return std::make_unique<sdk::TemplateHandle>(template_vtable(name), host::host_api(), config_json);
}

std::string marked(const sdk::RenderedTemplate& r) {
  std::string out;
  bool in = false;
  for (const auto& s : r.segments()) {
    bool trained = s.loss_weight > 0;
    if (trained != in) out += trained ? "[[" : "]]";
    in = trained;
    if (s.kind == MSW_TEMPLATE_SEGMENT_BOS) out += "<BOS>";
    else if (s.kind == MSW_TEMPLATE_SEGMENT_EOS) out += "<EOS>";
    else out += r.segment_text(s);
  }
  if (in) out += "]]";
  return out;
}

std::string conv(const std::vector<std::pair<std::string, std::string>>& messages) {
  nlohmann::json m = nlohmann::json::array();
  for (const auto& [role, content] : messages) m.push_back({{"role", role}, {"content", content}});
  return nlohmann::json{{"messages", m}}.dump();
}

std::string render(const std::string& name, const std::string& conversation, const std::string& options) {
  return marked(make_template(name)->render(conversation, options));
}

msw_status_code render_error(const std::string& name, const std::string& conversation, const std::string& options,
                             std::string* message) {
  try {
    make_template(name)->render(conversation, options);
  } catch (const sdk::Error& e) {
    if (message) *message = e.what();
    return e.code();
  }
  return MSW_STATUS_OK;
}

}  // namespace megaswift::test
