// The declarative description of a chat template, in the shape ms-swift's TemplateMeta uses:
//
//   [bos] prefix-or-system_prefix  prompt(Q1) R1 chat_sep  prompt(Q2) R2 suffix
//
// Patterns are written as text with placeholders {{SYSTEM}} and {{QUERY}}, {{BOS}} / {{EOS}} for
// the tokenizer's own tokens, and the spec's special tokens, which become SPECIAL segments.
#pragma once

#include "agent_format.hpp"

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace megaswift::chat_templates {

struct Piece {
  enum class Kind { Text, Special, System, Query, Bos, Eos };
  Kind kind;
  std::string text;  // Text and Special only

  bool operator==(const Piece&) const = default;
};
using Pattern = std::vector<Piece>;

// Splits a pattern string into pieces; `special_tokens` are matched longest first.
Pattern parse_pattern(std::string_view pattern, const std::vector<std::string>& special_tokens);

struct TemplateSpec {
  std::string name;
  Pattern prefix;                  // before the first round when there is no system prompt
  Pattern system_prefix;           // instead of prefix when there is one; empty: no system support
  Pattern prompt;                  // one user turn and the assistant header
  std::optional<Pattern> chat_sep; // between rounds; nullopt: single-round (only the last is kept)
  Pattern suffix;                  // after the final response when training
  std::optional<std::string> default_system;
  bool auto_add_bos = false;       // put the tokenizer's own BOS tokens first
  bool use_chat_template = true;   // false for the generative template: no system, no thinking rules
  std::vector<std::string> stop_words;  // ms-swift's stop_words, before the suffix's own stop word
  // Hybrid-thinking models (ms-swift's is_thinking / thinking_prefix / non_thinking_prefix).
  bool is_thinking = false;
  std::string thinking_prefix;
  std::string non_thinking_prefix;
  std::string history_thinking_prefix;
  AgentFormat agent_format = AgentFormat::None;  // None: tool_call/tool_response messages are refused
  std::string end_of_turn;  // empty: turns end with the tokenizer's EOS token
  const char* const* model_types = nullptr;  // HF model_type values, NULL-terminated static array; {"*"} for any

  bool supports_system() const { return !system_prefix.empty(); }
  // Every stop word generation should honour besides the tokenizer's EOS: stop_words plus the
  // suffix's last text piece, stripped (ms-swift's suffix_stop).
  std::vector<std::string> all_stop_words() const;
};

// The first-party templates.
TemplateSpec qwen_spec();
TemplateSpec qwen2_5_spec();
TemplateSpec qwen3_spec();
TemplateSpec llama3_spec();
TemplateSpec default_spec();
TemplateSpec generative_spec();

}  // namespace megaswift::chat_templates
