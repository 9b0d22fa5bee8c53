// Row-format detection, once per file, from the union of its rows' keys (after --columns), as ms-swift's
// AutoPreprocessor does:
//   messages / conversations / conversation  -> messages family (role/content or from/value, or {"human","assistant"}
//                                               pairs); "messages" is reported as `messages`, the others `sharegpt`
//   instruction and input                    -> alpaca: query = instruction + "\n" + input (either alone when the
//                                               other is empty), response = output
//   anything else                            -> query/response with ms-swift's aliases:
//        system   <- system_prompt
//        query    <- prompt, input, instruction, question, problem
//        response <- answer, output, targets, target, answer_key, answers, solution, text, completion, content
//      a file with a response but no query column is `text` (pre-training rows such as {"text": ...}).
// Keys match case-insensitively. The canonical name wins over its aliases; two aliases and no canonical name is
// ambiguous and throws DatasetError suggesting --columns. A file with none of these keys throws too.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace megaswift::datasets {

enum class RowFormat { messages, sharegpt, alpaca, query_response, text };
std::string_view to_string(RowFormat format);

// The actual key names (as spelled in the file) holding each part; empty = the file has no such column.
struct FormatPlan {
  RowFormat format = RowFormat::query_response;
  std::string conversation;                 // messages family
  std::string system;
  std::string history;                      // [[query, response], ...]
  std::string query, response;              // query/response and text
  std::string instruction, input, output;   // alpaca (output may be a response alias when absent)
};

FormatPlan detect_format(const std::vector<std::string>& keys, std::string_view source_name);

}  // namespace megaswift::datasets
