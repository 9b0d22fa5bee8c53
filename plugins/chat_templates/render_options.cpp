#include "render_options.hpp"

#include <megaswift/sdk/status.hpp>

namespace megaswift::chat_templates {
namespace {

using nlohmann::json;
using sdk::Error;

[[noreturn]] void bad(const std::string& message) { throw Error(MSW_STATUS_INVALID_ARGUMENT, message); }

std::optional<bool> opt_bool(const json& o, const char* key) {
  auto it = o.find(key);
  if (it == o.end() || it->is_null()) return std::nullopt;
  if (!it->is_boolean()) bad(std::string("template option \"") + key + "\" must be true or false, got " + it->dump());
  return it->get<bool>();
}

std::optional<std::string> opt_string(const json& o, const char* key) {
  auto it = o.find(key);
  if (it == o.end() || it->is_null()) return std::nullopt;
  if (!it->is_string()) bad(std::string("template option \"") + key + "\" must be a string, got " + it->dump());
  return it->get<std::string>();
}

// "default", "last_round" or "all", optionally followed by "+ignore_empty_think"; as in ms-swift a
// modifier alone means default+modifier.
void parse_loss_scale(const std::string& spec, RenderOptions& out) {
  size_t start = 0;
  bool first = true;
  while (start <= spec.size()) {
    size_t plus = spec.find('+', start);
    std::string part = spec.substr(start, plus == std::string::npos ? std::string::npos : plus - start);
    if (part == "default" || part == "last_round" || part == "all") {
      if (!first) bad("loss_scale '" + spec + "': the base strategy '" + part + "' must come first");
      out.loss_base = part == "default" ? LossBase::Default : part == "last_round" ? LossBase::LastRound : LossBase::All;
    } else if (part == "ignore_empty_think") {
      out.ignore_empty_think = true;
    } else {
      throw Error(MSW_STATUS_UNSUPPORTED,
                  "loss_scale '" + spec + "': '" + part +
                      "' is not supported; use default, last_round or all, optionally with +ignore_empty_think");
    }
    first = false;
    if (plus == std::string::npos) break;
    start = plus + 1;
  }
}

}  // namespace

json parse_options_object(std::string_view text, const char* what) {
  if (text.empty()) return json::object();
  json doc = json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (doc.is_discarded()) bad(std::string("the template ") + what + " is not valid JSON");
  if (doc.is_null()) return json::object();
  if (!doc.is_object()) bad(std::string("the template ") + what + " must be a JSON object, got " + doc.dump());
  return doc;
}

RenderOptions resolve_options(const json& defaults, const json& overrides) {
  json o = defaults;
  for (auto it = overrides.begin(); it != overrides.end(); ++it) o[it.key()] = it.value();

  RenderOptions r;
  r.system = opt_string(o, "system");
  if (auto ls = opt_string(o, "loss_scale")) parse_loss_scale(*ls, r);
  r.disable_ignore_empty_think = opt_bool(o, "disable_ignore_empty_think").value_or(false);
  r.add_generation_prompt = opt_bool(o, "add_generation_prompt").value_or(false);
  r.enable_thinking = opt_bool(o, "enable_thinking");
  r.response_prefix = opt_string(o, "response_prefix");
  r.add_non_thinking_prefix = opt_bool(o, "add_non_thinking_prefix").value_or(true);
  r.preserve_thinking = opt_bool(o, "preserve_thinking");
  r.eos_token = opt_string(o, "eos_token");
  return r;
}

}  // namespace megaswift::chat_templates
