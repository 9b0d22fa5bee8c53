#include "datasets/core/issues.hpp"

namespace megaswift::datasets {

std::string_view to_string(RowIssue issue) {
  switch (issue) {
    case RowIssue::not_an_object: return "row is not a JSON object";
    case RowIssue::field_count_mismatch: return "CSV field count differs from the header";
    case RowIssue::column_conflict: return "--columns rename collides with an existing key";
    case RowIssue::missing_field: return "missing field";
    case RowIssue::wrong_type: return "wrong type";
    case RowIssue::unknown_role: return "unknown role";
    case RowIssue::empty_conversation: return "empty conversation";
    case RowIssue::system_not_first: return "system message not first";
    case RowIssue::no_final_assistant_turn: return "conversation does not end with an assistant turn";
    case RowIssue::row_too_large: return "row larger than 64 MiB";
  }
  return "unknown issue";
}

}  // namespace megaswift::datasets
