// Render options (megaswift/c/template.h): the create() config gives defaults, each render call's
// options override them key by key.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

namespace megaswift::chat_templates {

enum class LossBase { Default, LastRound, All };

struct RenderOptions {
  std::optional<std::string> system;           // --system
  LossBase loss_base = LossBase::Default;
  bool ignore_empty_think = false;             // "+ignore_empty_think" in loss_scale
  bool disable_ignore_empty_think = false;
  bool add_generation_prompt = false;
  std::optional<bool> enable_thinking;
  std::optional<std::string> response_prefix;
  bool add_non_thinking_prefix = true;
  std::optional<bool> preserve_thinking;
  std::optional<std::string> eos_token;

  bool training() const { return !add_generation_prompt; }
};

// Parses a JSON object (NULL/empty text counts as {}); throws sdk::Error naming the key at fault.
nlohmann::json parse_options_object(std::string_view text, const char* what);
// `defaults` overlaid with `overrides`, then validated.
RenderOptions resolve_options(const nlohmann::json& defaults, const nlohmann::json& overrides);

}  // namespace megaswift::chat_templates
