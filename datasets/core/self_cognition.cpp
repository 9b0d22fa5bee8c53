#include "datasets/core/self_cognition.hpp"

#include "datasets/core/error.hpp"

namespace megaswift::datasets {

namespace {

void pick(const std::vector<std::string>& values, const char* flag, std::optional<std::string>& zh,
          std::optional<std::string>& en) {
  if (values.empty()) return;
  if (values.size() > 2)
    throw DatasetError(std::string(flag) + " takes one value (used for Chinese and English rows) or two (Chinese, "
                       "then English), got " + std::to_string(values.size()));
  zh = values[0];
  en = values.size() == 2 ? values[1] : values[0];
}

void replace_all(std::string& s, std::string_view from, const std::string& to) {
  for (std::size_t pos = s.find(from); pos != std::string::npos; pos = s.find(from, pos + to.size()))
    s.replace(pos, from.size(), to);
}

void substitute(nlohmann::json& v, const std::optional<std::string>& name, const std::optional<std::string>& author) {
  if (v.is_string()) {
    auto& s = v.get_ref<std::string&>();
    if (name) replace_all(s, "{{NAME}}", *name);
    if (author) replace_all(s, "{{AUTHOR}}", *author);
  } else if (v.is_structured()) {
    for (auto& child : v) substitute(child, name, author);
  }
}

}  // namespace

SelfCognitionNames self_cognition_names(const std::vector<std::string>& model_name,
                                        const std::vector<std::string>& model_author) {
  SelfCognitionNames names;
  pick(model_name, "--model_name", names.name_zh, names.name_en);
  pick(model_author, "--model_author", names.author_zh, names.author_en);
  return names;
}

void apply_self_cognition(nlohmann::json& record, const SelfCognitionNames& names) {
  if (!record.is_object()) return;
  const auto tag = record.find("tag");
  const bool zh = tag != record.end() && tag->is_string() && tag->get_ref<const std::string&>() == "zh";
  for (auto& [key, value] : record.items())
    if (key != "tag") substitute(value, zh ? names.name_zh : names.name_en, zh ? names.author_zh : names.author_en);
}

}  // namespace megaswift::datasets
