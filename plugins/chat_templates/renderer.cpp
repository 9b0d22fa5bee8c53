#include "renderer.hpp"

#include "text_utils.hpp"

#include <megaswift/sdk/status.hpp>

#include <algorithm>

namespace megaswift::chat_templates {
namespace {

using sdk::Error;

[[noreturn]] void bad(const std::string& message) { throw Error(MSW_STATUS_INVALID_ARGUMENT, message); }

constexpr std::string_view kThinkOpen = "<think>";
constexpr std::string_view kThinkClose = "</think>";

// Consecutive messages of one role form one turn (ms-swift merges them: user contents are
// concatenated, assistant contents keep their own loss settings).
struct Turn {
  Role role;
  std::vector<Message> parts;
};

// Where an item sits in the layout; decides its loss under each strategy.
enum class Place { Other, Response, Suffix, ChatSep };

struct Item {
  Piece::Kind kind;  // Text, Special, Bos or Eos
  std::string text;
  Place place;
  int32_t message_index = -1;
  int round = -1;
  const Message* message = nullptr;  // the assistant message of a Response item
  float weight = 0;
};

bool is_query(Role role) { return role == Role::User || role == Role::ToolResponse; }

// Puts the agent roles into the turn layout the way ms-swift's agent templates do: a tool_call joins the
// assistant's turn as assistant text in the template's agent format (so it is trained on like the rest of
// the answer); the tool results between two assistant turns form one turn in the question's place.
std::vector<Turn> merge_turns(const std::vector<Message>& messages, const TemplateSpec& spec) {
  std::vector<Turn> turns;
  for (const Message& original : messages) {
    Message m = original;
    const bool agent_role = m.role == Role::ToolCall || m.role == Role::ToolResponse;
    if (agent_role && spec.agent_format == AgentFormat::None)
      throw Error(MSW_STATUS_UNSUPPORTED,
                  "conversation message " + std::to_string(m.index) + " has role \"" + role_name(m.role) +
                      "\": template '" + spec.name +
                      "' has no agent format for tool calls and results; pick a template that has one "
                      "(qwen, qwen2_5, qwen3) or drop the tool turns from the dataset");
    Turn* open = turns.empty() ? nullptr : &turns.back();
    if (m.role == Role::ToolCall) {
      bool after_text = false;
      if (open && open->role == Role::Assistant)
        for (const Message& p : open->parts) after_text = after_text || !p.content.empty();
      m.content = std::string(after_text ? "\n" : "") + format_tool_call(spec.agent_format, m.content);
      m.role = Role::Assistant;
    } else if (m.role == Role::ToolResponse) {
      const bool first = !open || open->role != Role::ToolResponse;
      m.content = format_tool_response(spec.agent_format, m.content, first);
    }
    if (open && open->role == m.role) {
      open->parts.push_back(std::move(m));
      continue;
    }
    // Two kinds of question in a row would leave no answer between them to train on.
    if (open && is_query(open->role) && is_query(m.role))
      bad("conversation message " + std::to_string(original.index) + " (" + role_name(original.role) +
          ") directly follows a " + role_name(open->role) +
          " message; tool results answer the assistant's tool_call, so an assistant or tool_call message must "
          "come between them");
    turns.push_back({m.role, {std::move(m)}});
  }
  return turns;
}

int last_user_turn(const std::vector<Turn>& turns) {
  for (int i = static_cast<int>(turns.size()) - 1; i >= 0; --i)
    if (turns[i].role == Role::User) return i;
  return -1;
}

bool starts_with(std::string_view s, std::string_view prefix) { return s.substr(0, prefix.size()) == prefix; }
bool ends_with(std::string_view s, std::string_view suffix) {
  return s.size() >= suffix.size() && s.substr(s.size() - suffix.size()) == suffix;
}

// Bytes of an empty think block at the start of a response: ms-swift's ignore_empty_think patterns
// ^<think>\s*</think>\s* and ^</think>\s*; 0 when there is none.
size_t empty_think_prefix(std::string_view s) {
  size_t p = 0;
  if (starts_with(s, kThinkOpen)) {
    p = kThinkOpen.size();
    p += leading_space_bytes(s.substr(p));
    if (!starts_with(s.substr(p), kThinkClose)) return 0;
  } else if (!starts_with(s, kThinkClose)) {
    return 0;
  }
  p += kThinkClose.size();
  return p + leading_space_bytes(s.substr(p));
}

// ms-swift's handling of hybrid-thinking templates: add the empty think block to answers that lack
// one, and drop the reasoning of earlier turns unless it is preserved.
void apply_thinking_rules(const TemplateSpec& spec, const RenderOptions& opt, bool enable_thinking,
                          std::vector<Turn>& turns) {
  const bool training = opt.training();
  const int last_user = last_user_turn(turns);
  bool preserve = true;
  if (opt.preserve_thinking) preserve = *opt.preserve_thinking;
  else if (spec.is_thinking || enable_thinking) preserve = training && opt.loss_base != LossBase::LastRound;

  if (opt.add_non_thinking_prefix && !spec.non_thinking_prefix.empty()) {
    const int start = (!training || opt.loss_base == LossBase::LastRound) ? last_user : -1;
    for (int i = start + 1; i < static_cast<int>(turns.size()); ++i) {
      if (turns[i].role != Role::Assistant) continue;
      std::string& c = turns[i].parts.front().content;
      if (!starts_with(c, kThinkOpen) && !starts_with(c, spec.non_thinking_prefix)) c.insert(0, spec.non_thinking_prefix);
    }
  }
  if (!preserve) {
    for (int i = 0; i < last_user; ++i) {
      if (turns[i].role != Role::Assistant) continue;
      std::string& c = turns[i].parts.front().content;
      c = spec.history_thinking_prefix + std::string(python_strip(after_last(c, kThinkClose)));
    }
  }
}

class Layout {
 public:
  explicit Layout(std::vector<Item>& items) : items_(items) {}

  void add(Piece::Kind kind, std::string text, Place place, int32_t message_index, int round,
           const Message* message = nullptr) {
    items_.push_back({kind, std::move(text), place, message_index, round, message, 0.0f});
  }

  void pattern(const Pattern& p, Place place, int round, const std::optional<std::string>& system,
               int32_t system_index, const Turn* query) {
    for (const Piece& piece : p) {
      switch (piece.kind) {
        case Piece::Kind::System:
          if (system) add(Piece::Kind::Text, *system, place, system_index, round);
          break;
        case Piece::Kind::Query:
          if (query)
            for (const Message& m : query->parts) add(Piece::Kind::Text, m.content, place, m.index, round);
          break;
        default: add(piece.kind, piece.text, place, -1, round);
      }
    }
  }

  void response(const Turn& turn, int round) {
    for (const Message& m : turn.parts) add(Piece::Kind::Text, m.content, Place::Response, m.index, round, &m);
  }

 private:
  std::vector<Item>& items_;
};

void assign_weights(const RenderOptions& opt, int last_round, const Turn* final_response,
                    std::vector<Item>& items) {
  const bool all = opt.loss_base == LossBase::All;
  for (Item& it : items) {
    switch (it.place) {
      case Place::Response: {
        bool by_strategy = opt.loss_base != LossBase::LastRound || it.round == last_round;
        bool on = it.message->loss.value_or(by_strategy);
        it.weight = on ? static_cast<float>(it.message->loss_weight.value_or(1.0)) : 0.0f;
        break;
      }
      case Place::Suffix: {
        // The end-of-turn suffix belongs to the final answer: trained on under every strategy, but not
        // when that answer is explicitly excluded with "loss": false (ms-swift would still train on
        // it; the earlier turns' end-of-turn tokens already follow their answers, so we do too).
        bool excluded = final_response && final_response->parts.back().loss == false;
        it.weight = excluded ? 0.0f : 1.0f;
        break;
      }
      case Place::Other:
      case Place::ChatSep: it.weight = all ? 1.0f : 0.0f; break;
    }
  }
}

// An empty think block at the start of a trained-on answer carries no loss. Builds a new list rather than inserting
// in place: a row of thousands of answers would otherwise move the tail once per answer (quadratic time).
void split_empty_think(std::vector<Item>& items) {
  std::vector<Item> out;
  out.reserve(items.size());
  for (Item& it : items) {
    size_t n = 0;
    if (it.place == Place::Response && it.weight > 0 && !it.message->loss_weight) n = empty_think_prefix(it.text);
    if (n > 0) {
      Item head = it;
      head.text = it.text.substr(0, n);
      head.weight = 0;
      it.text.erase(0, n);
      out.push_back(std::move(head));
    }
    out.push_back(std::move(it));
  }
  items = std::move(out);
}

// ms-swift's _add_dynamic_eos: when the separator between rounds is the same text as the final
// suffix ("<|im_end|>\n", "<|eot_id|>"), it closes a trained-on answer and is trained on too.
void train_turn_ends(const TemplateSpec& spec, std::vector<Item>& items) {
  if (!spec.chat_sep || *spec.chat_sep != spec.suffix) return;
  for (size_t i = 0; i < items.size(); ++i) {
    if (items[i].place != Place::ChatSep) continue;
    const Item* before = nullptr;  // the last item that produces tokens before the separator
    for (size_t k = i; k-- > 0;) {
      if (items[k].kind != Piece::Kind::Text || !items[k].text.empty()) {
        before = &items[k];
        break;
      }
    }
    bool after_trained_answer = before && before->place == Place::Response && before->weight > 0;
    size_t end = i;
    while (end < items.size() && items[end].place == Place::ChatSep && items[end].round == items[i].round) ++end;
    if (after_trained_answer)
      for (size_t k = i; k < end; ++k) items[k].weight = std::max(items[k].weight, 1.0f);
    i = end - 1;
  }
}

void emit(const std::vector<Item>& items, sdk::RenderedTemplate& out) {
  std::string text;
  float weight = 0;
  int32_t index = -1;
  bool open = false;
  auto flush = [&] {
    if (open && !text.empty()) out.add(MSW_TEMPLATE_SEGMENT_TEXT, text, weight, index);
    text.clear();
    open = false;
  };
  for (const Item& it : items) {
    if (it.kind == Piece::Kind::Text) {
      if (it.text.empty()) continue;
      if (open && (it.weight != weight || it.message_index != index)) flush();
      if (!open) {
        open = true;
        weight = it.weight;
        index = it.message_index;
      }
      text += it.text;
      continue;
    }
    flush();
    msw_template_segment_kind kind = it.kind == Piece::Kind::Special ? MSW_TEMPLATE_SEGMENT_SPECIAL
                                     : it.kind == Piece::Kind::Bos   ? MSW_TEMPLATE_SEGMENT_BOS
                                                                     : MSW_TEMPLATE_SEGMENT_EOS;
    out.add(kind, it.text, it.weight, it.message_index);
  }
  flush();
}

}  // namespace

void render(const TemplateSpec& spec, const Conversation& conv, const RenderOptions& opt, sdk::RenderedTemplate& out) {
  std::vector<Turn> turns = merge_turns(conv.messages, spec);
  const bool training = opt.training();
  const bool enable_thinking = opt.enable_thinking.value_or(spec.is_thinking && spec.non_thinking_prefix.empty());

  std::optional<std::string> system;
  int32_t system_index = -1;
  if (spec.use_chat_template) {
    apply_thinking_rules(spec, opt, enable_thinking, turns);
    if (conv.system) {
      system = conv.system;
      system_index = conv.system_index;
    } else {
      system = opt.system ? opt.system : spec.default_system;
    }
    if (system && !system->empty() && !spec.supports_system())
      bad("template '" + spec.name + "' has no place for a system prompt; remove it or pick another --template");
  }

  // A conversation that starts with the answer (pre-training rows) gets an empty question.
  if (turns.front().role == Role::Assistant) turns.insert(turns.begin(), Turn{Role::User, {{Role::User, "", -1, {}, {}}}});
  if (training && turns.back().role != Role::Assistant)
    bad(std::string("the conversation ends with a ") + role_name(turns.back().role) +
        " message, but a training sample needs the assistant's answer last "
        "(to build a prompt for generation, set add_generation_prompt)");
  if (!training && !is_query(turns.back().role))
    bad("add_generation_prompt is set, but the conversation ends with an assistant message; "
        "a prompt must end with the user's message or the tool results");

  // Single-round templates keep only the last round (as ms-swift does, which warns).
  if (!spec.chat_sep && turns.size() > 2) turns.erase(turns.begin(), turns.end() - (training ? 2 : 1));

  const int rounds = static_cast<int>((turns.size() + 1) / 2);
  std::vector<Item> items;
  Layout layout(items);
  if (spec.auto_add_bos) layout.add(Piece::Kind::Bos, "", Place::Other, -1, -1);
  layout.pattern(system && !system->empty() ? spec.system_prefix : spec.prefix, Place::Other, -1, system,
                 system_index, nullptr);
  const Turn* final_response = nullptr;
  for (int r = 0; r < rounds; ++r) {
    const Turn& query = turns[2 * r];
    const Turn* answer = 2 * r + 1 < static_cast<int>(turns.size()) ? &turns[2 * r + 1] : nullptr;
    layout.pattern(spec.prompt, Place::Other, r, system, system_index, &query);
    if (r < rounds - 1) {
      layout.response(*answer, r);
      if (spec.chat_sep) layout.pattern(*spec.chat_sep, Place::ChatSep, r, system, system_index, nullptr);
    } else if (answer) {
      final_response = answer;
      layout.response(*answer, r);
      std::vector<std::string> stops = spec.all_stop_words();
      if (opt.eos_token && !opt.eos_token->empty()) stops.push_back(*opt.eos_token);
      const std::string& last = answer->parts.back().content;
      bool ends_with_stop = std::any_of(stops.begin(), stops.end(), [&](const auto& w) { return ends_with(last, w); });
      if (!ends_with_stop) layout.pattern(spec.suffix, Place::Suffix, r, system, system_index, nullptr);
    } else {
      std::string prefix = opt.response_prefix ? *opt.response_prefix
                           : !spec.use_chat_template ? std::string()
                           : enable_thinking         ? spec.thinking_prefix
                                                     : spec.non_thinking_prefix;
      layout.add(Piece::Kind::Text, prefix, Place::Other, -1, r);
    }
  }

  assign_weights(opt, rounds - 1, final_response, items);
  const bool hybrid = spec.is_thinking && !spec.non_thinking_prefix.empty();
  if (opt.ignore_empty_think || (hybrid && !opt.disable_ignore_empty_think)) split_empty_think(items);
  train_turn_ends(spec, items);
  emit(items, out);
}

}  // namespace megaswift::chat_templates
