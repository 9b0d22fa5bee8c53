#include "datasets/core/normalize.hpp"

#include "datasets/core/columns.hpp"
#include "datasets/core/rng.hpp"

namespace megaswift::datasets {

namespace {

using nlohmann::json;

// Short-circuits a conversion on the first problem; keeps the converters free of nested error plumbing.
struct Bad {
  RowProblem problem;
};

[[noreturn]] void fail(RowIssue issue, std::string detail) { throw Bad{RowProblem{issue, std::move(detail)}}; }

const json* field(const json& record, const std::string& key) {
  if (key.empty()) return nullptr;
  const auto it = record.find(key);
  return it == record.end() || it->is_null() ? nullptr : &*it;
}

// "a number", "an object", ... for messages about a value of the wrong type.
std::string a_type(const json& v) {
  if (v.is_number()) return "a number";
  if (v.is_object()) return "an object";
  if (v.is_array()) return "a list";
  return std::string("a ") + v.type_name();
}

std::optional<std::string> optional_string(const json& record, const std::string& key) {
  const json* v = field(record, key);
  if (!v) return std::nullopt;
  if (!v->is_string()) fail(RowIssue::wrong_type, "'" + key + "' is " + a_type(*v) + ", expected a string");
  return v->get<std::string>();
}

// A list-valued cell may arrive as JSON text (CSV cells, or data written by pandas); then the parsed list lives in
// `storage`. Otherwise the row's own list is returned, not a copy.
const json& list_value(const json& v, const std::string& name, std::string_view expected, json& storage) {
  if (v.is_string()) {
    try {
      storage = json::parse(v.get_ref<const std::string&>());
      if (storage.is_array()) return storage;
    } catch (const json::exception&) {
    }
    fail(RowIssue::wrong_type, "'" + name + "' is a string that is not a JSON list; expected " + std::string(expected));
  }
  if (!v.is_array()) fail(RowIssue::wrong_type, "'" + name + "' is " + a_type(v) + ", expected " + std::string(expected));
  return v;
}

std::optional<float> message_loss(const json& m, const std::string& where) {
  for (const char* key : {"loss", "loss_scale"}) {
    const auto it = m.find(key);
    if (it == m.end() || it->is_null()) continue;
    if (it->is_boolean()) return it->get<bool>() ? 1.0f : 0.0f;
    if (it->is_number()) return it->get<float>();
    fail(RowIssue::wrong_type, where + "." + key + " is " + a_type(*it) + ", expected true/false or a number");
  }
  return std::nullopt;
}

void add_system(std::vector<Message>& messages, const std::optional<std::string>& system) {
  if (system) messages.insert(messages.begin(), Message{std::string(kRoleSystem), *system, std::nullopt});
}

std::vector<Message> conversation_messages(const json& record, const FormatPlan& plan) {
  const std::string& key = plan.conversation;
  const json* raw = field(record, key);
  if (!raw) fail(RowIssue::missing_field, "no '" + key + "'");
  json storage;
  const json& list = list_value(*raw, key, "a list of messages", storage);

  std::vector<Message> messages;
  for (std::size_t i = 0; i < list.size(); ++i) {
    const json& m = list[i];
    const std::string where = key + "[" + std::to_string(i) + "]";
    if (!m.is_object()) fail(RowIssue::wrong_type, where + " is " + a_type(m) + ", expected an object");
    const char* role_key = m.contains("role") ? "role" : m.contains("from") ? "from" : nullptr;
    if (role_key) {
      const json& role = m[role_key];
      if (!role.is_string()) fail(RowIssue::wrong_type, where + "." + role_key + " is " + a_type(role) + ", expected a string");
      std::optional<std::string> canonical = canonical_role(role.get_ref<const std::string&>());
      if (!canonical) fail(RowIssue::unknown_role, where + "." + role_key + " is '" + role.get<std::string>() + "'");
      const char* content_key = m.contains("content") ? "content" : m.contains("value") ? "value" : "content";
      const auto content = m.find(content_key);
      if (content == m.end() || content->is_null()) fail(RowIssue::missing_field, where + " has no content");
      if (!content->is_string())
        fail(RowIssue::wrong_type, where + "." + content_key + " is " + a_type(*content) +
                                       ", expected a string (multimodal content lists are not supported)");
      messages.push_back(Message{*canonical, content->get<std::string>(), message_loss(m, where)});
      continue;
    }
    // ms-swift's ShareGPT turn form: {"human": query, "assistant": response} (either may be absent).
    bool any = false;
    for (const auto& [names, role] : {std::pair{std::vector<std::string>{"human", "user"}, kRoleUser},
                                      std::pair{std::vector<std::string>{"assistant", "gpt", "bot"}, kRoleAssistant}}) {
      for (const std::string& name : names) {
        const json* v = field(m, name);
        if (!v) continue;
        if (!v->is_string()) fail(RowIssue::wrong_type, where + "." + name + " is " + a_type(*v) + ", expected a string");
        messages.push_back(Message{std::string(role), v->get<std::string>(), std::nullopt});
        any = true;
        break;
      }
    }
    if (!any) fail(RowIssue::missing_field, where + " has neither a role ('role'/'from') nor 'human'/'assistant' keys");
  }

  const std::optional<std::string> system = optional_string(record, plan.system);
  if (system && (messages.empty() || messages.front().role != kRoleSystem)) add_system(messages, system);
  return messages;
}

void append_history(std::vector<Message>& messages, const json& record, const std::string& key) {
  const json* raw = field(record, key);
  if (!raw) return;
  json storage;
  const json& history = list_value(*raw, key, "a list of [query, response] pairs", storage);
  for (std::size_t i = 0; i < history.size(); ++i) {
    const json& pair = history[i];
    const std::string where = key + "[" + std::to_string(i) + "]";
    if (!pair.is_array() || pair.size() != 2)
      fail(RowIssue::wrong_type, where + " is not a [query, response] pair");
    for (std::size_t k = 0; k < 2; ++k) {
      if (pair[k].is_null()) continue;
      if (!pair[k].is_string()) fail(RowIssue::wrong_type, where + "[" + std::to_string(k) + "] is " + a_type(pair[k]) + ", expected a string");
      messages.push_back(Message{std::string(k == 0 ? kRoleUser : kRoleAssistant), pair[k].get<std::string>(), std::nullopt});
    }
  }
}

std::string response_text(const json& record, const std::string& key, const NormalizeOptions& options, std::size_t index) {
  const std::string name = key.empty() ? "response" : key;
  const json* v = field(record, key);
  if (!v) fail(RowIssue::missing_field, "no '" + name + "'");
  if (v->is_array()) {
    if (v->empty()) fail(RowIssue::missing_field, "'" + name + "' is an empty list");
    const json& pick = (*v)[Rng(derive_seed(options.seed, index)).below(v->size())];
    if (!pick.is_string()) fail(RowIssue::wrong_type, "an element of '" + name + "' is " + a_type(pick) + ", expected a string");
    return pick.get<std::string>();
  }
  if (!v->is_string()) fail(RowIssue::wrong_type, "'" + name + "' is " + a_type(*v) + ", expected a string");
  return v->get<std::string>();
}

std::vector<Message> query_response_messages(const json& record, const FormatPlan& plan, const NormalizeOptions& options,
                                             std::size_t index) {
  std::vector<Message> messages;
  append_history(messages, record, plan.history);
  std::optional<std::string> query;
  std::string response_key = plan.response;
  if (plan.format == RowFormat::alpaca) {
    const std::optional<std::string> instruction = optional_string(record, plan.instruction);
    const std::optional<std::string> input = optional_string(record, plan.input);
    if (!instruction && !input) fail(RowIssue::missing_field, "no '" + plan.instruction + "' and no '" + plan.input + "'");
    if (instruction && !instruction->empty() && input && !input->empty())
      query = *instruction + "\n" + *input;
    else
      query = instruction && !instruction->empty() ? *instruction : input ? *input : *instruction;
    response_key = plan.output;
  } else {
    query = optional_string(record, plan.query);
  }
  if (query) messages.push_back(Message{std::string(kRoleUser), *query, std::nullopt});
  messages.push_back(Message{std::string(kRoleAssistant), response_text(record, response_key, options, index), std::nullopt});
  add_system(messages, optional_string(record, plan.system));
  return messages;
}

}  // namespace

std::optional<std::string> canonical_role(std::string_view role) {
  const std::string r = ascii_lower(role);
  if (r == "user" || r == "human") return std::string(kRoleUser);
  if (r == "assistant" || r == "gpt" || r == "bot") return std::string(kRoleAssistant);
  if (r == "system") return std::string(kRoleSystem);
  if (r == "tool_call" || r == "function_call") return std::string(kRoleToolCall);
  if (r == "tool_response" || r == "tool" || r == "function_response" || r == "observation" || r == "observations")
    return std::string(kRoleToolResponse);
  return std::nullopt;
}

std::optional<RowProblem> validate_conversation(const std::vector<Message>& messages, Purpose purpose) {
  std::size_t turns = 0;
  for (std::size_t i = 0; i < messages.size(); ++i) {
    if (messages[i].role != kRoleSystem) {
      ++turns;
    } else if (i > 0) {
      return RowProblem{RowIssue::system_not_first, "a system message at position " + std::to_string(i)};
    }
  }
  if (turns == 0)
    return RowProblem{RowIssue::empty_conversation, messages.empty() ? "no messages" : "only a system message"};
  if (purpose == Purpose::sft && messages.back().role != kRoleAssistant)
    return RowProblem{RowIssue::no_final_assistant_turn, "the last message is from '" + messages.back().role + "'"};
  return std::nullopt;
}

std::variant<Row, RowProblem> normalize_record(const nlohmann::json& record, const FormatPlan& plan,
                                               const NormalizeOptions& options, std::size_t index) {
  if (!record.is_object()) return RowProblem{RowIssue::not_an_object, std::string("the row is a JSON ") + record.type_name()};
  Row row;
  row.index = index;
  try {
    if (plan.format == RowFormat::messages || plan.format == RowFormat::sharegpt)
      row.messages = conversation_messages(record, plan);
    else
      row.messages = query_response_messages(record, plan, options, index);
  } catch (const Bad& bad) {
    return bad.problem;
  }
  if (auto problem = validate_conversation(row.messages, options.purpose)) return *problem;
  return row;
}

}  // namespace megaswift::datasets
