#include "conversation.hpp"

#include <megaswift/sdk/status.hpp>
#include <nlohmann/json.hpp>

namespace megaswift::chat_templates {
namespace {

using nlohmann::json;
using sdk::Error;

[[noreturn]] void bad(const std::string& message) { throw Error(MSW_STATUS_INVALID_ARGUMENT, message); }

// Rendering is linear in the messages, but a row is one training sample: far more turns than any context holds is
// a data bug (rows concatenated by mistake), said as such rather than tokenized for minutes.
constexpr size_t kMaxMessages = 65536;

std::string where(size_t i) { return "conversation message " + std::to_string(i); }

void read_loss(const json& m, size_t i, Message& out) {
  if (auto it = m.find("loss"); it != m.end() && !it->is_null()) {
    if (it->is_boolean()) {
      out.loss = it->get<bool>();
    } else if (it->is_number()) {
      double w = it->get<double>();
      if (!(w >= 0)) bad(where(i) + ": \"loss\" must be true, false or a number >= 0, got " + it->dump());
      out.loss = w > 0;
      if (w > 0) out.loss_weight = w;
    } else {
      bad(where(i) + ": \"loss\" must be true, false, null or a number, got " + it->dump());
    }
  }
  if (auto it = m.find("loss_scale"); it != m.end() && !it->is_null()) {
    if (!it->is_number() || !(it->get<double>() >= 0))
      bad(where(i) + ": \"loss_scale\" must be a number >= 0, got " + it->dump());
    out.loss_weight = it->get<double>();
  }
}

}  // namespace

const char* role_name(Role role) {
  switch (role) {
    case Role::User: return "user";
    case Role::Assistant: return "assistant";
    case Role::ToolCall: return "tool_call";
    case Role::ToolResponse: return "tool_response";
  }
  return "?";
}

Conversation parse_conversation(std::string_view text) {
  json doc = json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (doc.is_discarded()) bad("the conversation is not valid JSON");
  if (!doc.is_object()) bad("the conversation must be a JSON object with \"messages\" or \"text\"");

  Conversation conv;
  if (auto it = doc.find("text"); it != doc.end() && doc.find("messages") == doc.end()) {
    if (!it->is_string()) bad("conversation \"text\" must be a string, got " + it->dump());
    conv.messages.push_back({Role::Assistant, it->get<std::string>(), 0, std::nullopt, std::nullopt});
    return conv;
  }
  auto msgs = doc.find("messages");
  if (msgs == doc.end()) bad("the conversation has neither \"messages\" nor \"text\"");
  if (!msgs->is_array()) bad("conversation \"messages\" must be an array, got " + msgs->dump());
  if (msgs->empty()) bad("the conversation has no messages");
  if (msgs->size() > kMaxMessages)
    bad("the conversation has " + std::to_string(msgs->size()) + " messages, more than the " +
        std::to_string(kMaxMessages) + " one row may have; split it into several rows");

  for (size_t i = 0; i < msgs->size(); ++i) {
    const json& m = (*msgs)[i];
    if (!m.is_object()) bad(where(i) + " must be an object with \"role\" and \"content\"");
    auto role = m.find("role");
    if (role == m.end() || !role->is_string()) bad(where(i) + " has no string \"role\"");
    auto content = m.find("content");
    if (content == m.end() || !content->is_string())
      bad(where(i) + " (" + role->get<std::string>() + ") has no string \"content\"");
    const std::string r = role->get<std::string>();
    if (r == "system") {
      if (i != 0) bad(where(i) + ": a system message may only come first");
      conv.system = content->get<std::string>();
      conv.system_index = 0;
      continue;
    }
    Message msg{Role::User, content->get<std::string>(), static_cast<int32_t>(i), std::nullopt, std::nullopt};
    if (r == "user") msg.role = Role::User;
    else if (r == "assistant") msg.role = Role::Assistant;
    else if (r == "tool_call") msg.role = Role::ToolCall;
    // "tool" is the 2.x name of tool_response, kept for callers written against it.
    else if (r == "tool_response" || r == "tool") msg.role = Role::ToolResponse;
    else bad(where(i) + ": unknown role \"" + r + "\" (expected system, user, assistant, tool_call or tool_response)");
    read_loss(m, i, msg);
    conv.messages.push_back(std::move(msg));
  }
  if (auto it = doc.find("system"); it != doc.end() && !it->is_null()) {
    if (!it->is_string()) bad("conversation \"system\" must be a string, got " + it->dump());
    if (conv.system) bad("the conversation has both a system message and a \"system\" key; keep one");
    conv.system = it->get<std::string>();
  }
  if (conv.messages.empty()) bad("the conversation has only a system message; it needs user/assistant messages");
  return conv;
}

}  // namespace megaswift::chat_templates
