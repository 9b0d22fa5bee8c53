// The conversation a template renders, parsed from the JSON described in megaswift/c/template.h.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace megaswift::chat_templates {

// ms-swift's agent-format roles: a tool_call is part of the assistant's turn (the model writes it),
// a tool_response (alias "tool") is what the tool returned, shown to the model like a user turn.
enum class Role { User, Assistant, ToolCall, ToolResponse };

struct Message {
  Role role;
  std::string content;
  int32_t index;                     // position in the JSON "messages" array
  std::optional<bool> loss;          // "loss": overrides the loss_scale strategy (assistant/tool_call only)
  std::optional<double> loss_weight; // "loss_scale", or a numeric "loss": the weight when trained on
};

struct Conversation {
  std::optional<std::string> system;  // a leading system message or the "system" key
  int32_t system_index = -1;          // the system message's index, -1 when it came from the key
  std::vector<Message> messages;      // without the system message
};

// Throws megaswift::sdk::Error (INVALID_ARGUMENT) naming the message and field at fault.
Conversation parse_conversation(std::string_view json);

const char* role_name(Role role);

}  // namespace megaswift::chat_templates
