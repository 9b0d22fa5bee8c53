// How a template writes tool calls and tool results (ms-swift's agent_template). Only the formats of the
// templates we ship are here; a template without one refuses tool_call and tool_response messages.
#pragma once

#include <string>
#include <string_view>

namespace megaswift::chat_templates {

enum class AgentFormat {
  None,
  // Qwen's (NousResearch hermes): calls as <tool_call>\n{json}\n</tool_call> in the assistant's turn,
  // results as <tool_response>\n...\n</tool_response> in a user turn.
  Hermes,
};

// One tool call as the assistant's text. A call written as a JSON object with "name" and "arguments" (or
// "parameters"; either may be an object or JSON text) is rewritten as {"name": ..., "arguments": {...}} with
// Python's json.dumps spacing, as ms-swift and the HF chat template both write it; other text is kept as is.
std::string format_tool_call(AgentFormat format, std::string_view call);

// One tool result as part of the turn that shows the results to the model; `first` is false for the
// second and later results of that turn (hermes separates them with a newline).
std::string format_tool_response(AgentFormat format, std::string_view response, bool first);

}  // namespace megaswift::chat_templates
