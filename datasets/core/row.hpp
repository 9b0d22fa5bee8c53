// The normalized row every dataset format becomes: an ordered conversation.
#pragma once

#include <nlohmann/json.hpp>

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace megaswift::datasets {

// Roles after normalization; ms-swift's other spellings (human, gpt, bot, function_call, observation, ...) map here.
inline constexpr std::string_view kRoleSystem = "system";
inline constexpr std::string_view kRoleUser = "user";
inline constexpr std::string_view kRoleAssistant = "assistant";
inline constexpr std::string_view kRoleToolCall = "tool_call";
inline constexpr std::string_view kRoleToolResponse = "tool_response";

struct Message {
  std::string role;
  std::string content;
  // The row's own per-message loss weight: "loss": true/false (1/0) or a number, or "loss_scale": number.
  // Absent means the template's --loss_scale strategy decides.
  std::optional<float> loss;
};

// A system prompt, when the row has one, is messages[0] with role "system". A pre-training text row
// ({"text": ...}) is a single assistant message, as in ms-swift, so one form serves `pt` and `sft`.
struct Row {
  std::vector<Message> messages;
  std::string source;      // the file the row came from
  std::size_t index = 0;   // 0-based position of the row in that file
};

// {"messages":[{"role":..,"content":..[,"loss":<number>]},...]}: the input of the template plugins.
nlohmann::json to_json(const Row& row);

}  // namespace megaswift::datasets
