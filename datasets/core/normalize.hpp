// One raw record -> one normalized Row (or the reason it cannot be one), following the file's FormatPlan.
#pragma once

#include "datasets/core/format_detect.hpp"
#include "datasets/core/issues.hpp"
#include "datasets/core/row.hpp"

#include <nlohmann/json.hpp>

#include <cstdint>
#include <optional>
#include <variant>
#include <vector>

namespace megaswift::datasets {

// sft rows must end with an assistant turn (its answer is what is learnt); pre-training rows need not, nor do the
// questions swift infer answers (a final assistant turn there is the reference answer, kept as "labels").
enum class Purpose { sft, pretrain, infer };

struct NormalizeOptions {
  Purpose purpose = Purpose::sft;
  std::uint64_t seed = 42;  // picks one answer, reproducibly, when a row's response is a list (as ms-swift does)
};

// Role spellings: user <- user, human; assistant <- assistant, gpt, bot; system <- system;
// tool_call <- tool_call, function_call; tool_response <- tool_response, tool, function_response, observation(s).
// Case-insensitive. Returns nullopt for anything else.
std::optional<std::string> canonical_role(std::string_view role);

std::variant<Row, RowProblem> normalize_record(const nlohmann::json& record, const FormatPlan& plan,
                                               const NormalizeOptions& options, std::size_t index);

// Checks a built conversation: at least one non-system turn, system only first, and for sft a final assistant turn.
std::optional<RowProblem> validate_conversation(const std::vector<Message>& messages, Purpose purpose);

}  // namespace megaswift::datasets
