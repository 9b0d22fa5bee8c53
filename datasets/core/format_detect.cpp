#include "datasets/core/format_detect.hpp"

#include "datasets/core/columns.hpp"
#include "datasets/core/error.hpp"

#include <algorithm>
#include <map>

namespace megaswift::datasets {

namespace {

// Lower-case name -> the key as spelled in the file; an exact lower-case spelling is preferred when several
// spellings differ only in case.
using KeyIndex = std::map<std::string, std::string>;

KeyIndex index_keys(const std::vector<std::string>& keys) {
  KeyIndex index;
  for (const std::string& key : keys) {
    const std::string lower = ascii_lower(key);
    auto [it, inserted] = index.emplace(lower, key);
    if (!inserted && key == lower) it->second = key;
  }
  return index;
}

std::string find_key(const KeyIndex& index, std::string_view name) {
  const auto it = index.find(std::string(name));
  return it == index.end() ? std::string() : it->second;
}

std::string join(const std::vector<std::string>& items) {
  std::string out;
  for (const auto& s : items) out += (out.empty() ? "'" : ", '") + s + "'";
  return out;
}

// ms-swift's rule: the canonical column wins; a single alias is renamed to it; several aliases are ambiguous.
std::string resolve(const KeyIndex& index, std::string_view canonical, const std::vector<std::string_view>& aliases,
                    std::string_view source_name) {
  if (std::string key = find_key(index, canonical); !key.empty()) return key;
  std::vector<std::string> found;
  for (std::string_view alias : aliases)
    if (std::string key = find_key(index, alias); !key.empty()) found.push_back(key);
  if (found.size() > 1)
    throw DatasetError(std::string(source_name) + ": cannot tell which column is the " + std::string(canonical) +
                       ": " + join(found) + " could all be; choose one with --columns, e.g. '{\"" + found[0] +
                       "\": \"" + std::string(canonical) + "\"}'");
  return found.empty() ? std::string() : found[0];
}

const std::vector<std::string_view> kSystemAliases = {"system_prompt"};
const std::vector<std::string_view> kQueryAliases = {"prompt", "input", "instruction", "question", "problem"};
const std::vector<std::string_view> kResponseAliases = {"answer", "output",     "targets", "target",
                                                        "answer_key", "answers", "solution", "text",
                                                        "completion", "content"};

}  // namespace

std::string_view to_string(RowFormat format) {
  switch (format) {
    case RowFormat::messages: return "messages";
    case RowFormat::sharegpt: return "sharegpt";
    case RowFormat::alpaca: return "alpaca";
    case RowFormat::query_response: return "query/response";
    case RowFormat::text: return "text";
  }
  return "unknown";
}

FormatPlan detect_format(const std::vector<std::string>& keys, std::string_view source_name) {
  const KeyIndex index = index_keys(keys);
  FormatPlan plan;
  plan.system = resolve(index, "system", kSystemAliases, source_name);

  for (std::string_view name : {"messages", "conversations", "conversation"}) {
    if (std::string key = find_key(index, name); !key.empty()) {
      plan.format = name == "messages" ? RowFormat::messages : RowFormat::sharegpt;
      plan.conversation = key;
      return plan;
    }
  }

  plan.history = find_key(index, "history");
  plan.instruction = find_key(index, "instruction");
  plan.input = find_key(index, "input");
  if (!plan.instruction.empty() && !plan.input.empty()) {
    plan.format = RowFormat::alpaca;
    plan.output = find_key(index, "output");
    if (plan.output.empty()) {
      std::vector<std::string_view> others;
      std::copy_if(kResponseAliases.begin(), kResponseAliases.end(), std::back_inserter(others),
                   [](std::string_view a) { return a != "output"; });
      plan.output = resolve(index, "response", others, source_name);
    }
    return plan;
  }
  plan.instruction.clear();
  plan.input.clear();

  plan.query = resolve(index, "query", kQueryAliases, source_name);
  plan.response = resolve(index, "response", kResponseAliases, source_name);
  if (plan.query.empty() && plan.response.empty())
    throw DatasetError(std::string(source_name) + ": cannot detect the row format from its keys [" + join(keys) +
                       "]; expected 'messages' or 'conversations', 'instruction'/'input'/'output', "
                       "'query'/'response' (or an alias such as 'prompt'/'answer'), or 'text'; rename keys with "
                       "--columns, e.g. '{\"my_question\": \"query\", \"my_answer\": \"response\"}'");
  plan.format = plan.query.empty() ? RowFormat::text : RowFormat::query_response;
  return plan;
}

}  // namespace megaswift::datasets
