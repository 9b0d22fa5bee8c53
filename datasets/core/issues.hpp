// Why a single row was dropped. Rows are counted by these reasons and reported, never a crash.
#pragma once

#include <string>
#include <string_view>

namespace megaswift::datasets {

enum class RowIssue {
  not_an_object,            // a JSON row that is a list/string/number instead of an object
  field_count_mismatch,     // a CSV record whose number of fields differs from the header's
  column_conflict,          // --columns renames a key onto one the row already has (or two keys onto one)
  missing_field,            // e.g. no "response", a message without "content"
  wrong_type,               // e.g. "messages" not a list, "content" a number, "loss" a string
  unknown_role,             // a message role none of the known spellings match
  empty_conversation,       // no user/assistant turn at all
  system_not_first,         // a system message after the first position
  no_final_assistant_turn,  // sft needs the conversation to end with the assistant's answer
  row_too_large,            // a line longer than kMaxRowBytes (record_reader.hpp), dropped unparsed
};

std::string_view to_string(RowIssue issue);

struct RowProblem {
  RowIssue issue;
  std::string detail;  // what exactly, e.g. "messages[2].role is 'robot'"
};

}  // namespace megaswift::datasets
