// --model_name / --model_author for the self-cognition dataset, as ms-swift applies them: {{NAME}} and {{AUTHOR}}
// in rows tagged "zh" take the Chinese value, all other rows the English one. One value serves both languages;
// two values are Chinese first, English second. A placeholder whose value is not given stays as it is (ms-swift
// does the same); the loader logs a warning then, because a model trained on "{{NAME}}" is rarely what was meant.
#pragma once

#include <nlohmann/json.hpp>

#include <optional>
#include <string>
#include <vector>

namespace megaswift::datasets {

struct SelfCognitionNames {
  std::optional<std::string> name_zh, name_en, author_zh, author_en;
  bool has_name() const { return name_zh.has_value(); }
  bool has_author() const { return author_zh.has_value(); }
};

// From the flag values; more than two values throws DatasetError naming the flag.
SelfCognitionNames self_cognition_names(const std::vector<std::string>& model_name,
                                        const std::vector<std::string>& model_author);

// Replaces the placeholders in every string inside `record` (its "tag" picks the language).
void apply_self_cognition(nlohmann::json& record, const SelfCognitionNames& names);

}  // namespace megaswift::datasets
