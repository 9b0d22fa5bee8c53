#include "agent_format.hpp"

#include <nlohmann/json.hpp>

namespace megaswift::chat_templates {
namespace {

using Json = nlohmann::ordered_json;  // keeps the caller's key order, as Python dicts do

// json.dumps(value, ensure_ascii=False): ", " and ": " separators; scalars as nlohmann writes them, which
// escapes strings the same way (control characters as \u00xx, other code points raw).
void python_dumps(const Json& v, std::string& out) {
  if (v.is_object()) {
    out += '{';
    bool first = true;
    for (const auto& [key, value] : v.items()) {
      if (!first) out += ", ";
      first = false;
      out += Json(key).dump(-1, ' ', false);
      out += ": ";
      python_dumps(value, out);
    }
    out += '}';
  } else if (v.is_array()) {
    out += '[';
    for (size_t i = 0; i < v.size(); ++i) {
      if (i) out += ", ";
      python_dumps(v[i], out);
    }
    out += ']';
  } else {
    out += v.dump(-1, ' ', false);
  }
}

// ms-swift's _parse_tool_call: {"name", "arguments"|"parameters"} with the arguments decoded when they are
// JSON text. Returns false when `call` is not such an object.
bool normalized_call(std::string_view call, std::string& out) {
  Json doc = Json::parse(call, nullptr, /*allow_exceptions=*/false);
  if (doc.is_discarded() || !doc.is_object()) return false;
  auto name = doc.find("name");
  if (name == doc.end() || !name->is_string()) return false;
  auto args = doc.find("arguments");
  if (args == doc.end() || args->is_null()) args = doc.find("parameters");
  if (args == doc.end() || args->is_null()) return false;
  Json arguments = *args;
  if (arguments.is_string()) {
    arguments = Json::parse(arguments.get<std::string>(), nullptr, false);
    if (arguments.is_discarded()) return false;
  }
  Json canonical = Json::object();
  canonical["name"] = *name;
  canonical["arguments"] = std::move(arguments);
  try {
    python_dumps(canonical, out);
  } catch (const Json::exception&) {  // invalid UTF-8 in a string: keep the caller's text
    out.clear();
    return false;
  }
  return true;
}

}  // namespace

std::string format_tool_call(AgentFormat format, std::string_view call) {
  std::string body;
  if (!normalized_call(call, body)) body = std::string(call);
  switch (format) {
    case AgentFormat::Hermes: return "<tool_call>\n" + body + "\n</tool_call>";
    case AgentFormat::None: break;
  }
  return body;
}

std::string format_tool_response(AgentFormat format, std::string_view response, bool first) {
  switch (format) {
    case AgentFormat::Hermes:
      return std::string(first ? "" : "\n") + "<tool_response>\n" + std::string(response) + "\n</tool_response>";
    case AgentFormat::None: break;
  }
  return std::string(response);
}

}  // namespace megaswift::chat_templates
