// JSON lines, a JSON list of row objects, or a columnar object: decided by the content, because ms-swift (through
// Hugging Face's json loader) accepts all three under either suffix.
#include "datasets/core/error.hpp"
#include "datasets/core/record_reader.hpp"
#include "datasets/core/utf8.hpp"

#include <algorithm>
#include <cctype>

namespace megaswift::datasets {

namespace {

using nlohmann::json;

bool is_blank(std::string_view s) {
  return std::all_of(s.begin(), s.end(), [](unsigned char c) { return std::isspace(c); });
}

// nlohmann's message after its own "line L, column C: " prefix (its line is wrong for JSON lines parsed one by one).
std::string explanation(const json::parse_error& e) {
  const std::string what = e.what();
  const std::size_t column = what.find("column ");
  const std::size_t colon = column == std::string::npos ? std::string::npos : what.find(": ", column);
  return colon == std::string::npos ? what : what.substr(colon + 2);
}

[[noreturn]] void throw_bad_json(std::string_view name, std::size_t line, std::size_t column, const json::parse_error& e,
                                 std::string_view hint) {
  throw DatasetError(std::string(name) + " line " + std::to_string(line) + ", column " + std::to_string(column) +
                     ": invalid JSON: " + explanation(e) + std::string(hint));
}

[[noreturn]] void throw_bad_document(std::string_view text, std::string_view name, const json::parse_error& e) {
  const std::size_t offset = e.byte == 0 ? 0 : e.byte - 1;
  const std::size_t line = line_of_offset(text, offset);
  const std::size_t line_start = offset == 0 ? 0 : text.rfind('\n', offset - 1);
  const std::size_t column = line_start == std::string_view::npos ? offset + 1 : offset - line_start;
  throw_bad_json(name, line, column, e, "");
}

RawRecord make_record(json value, std::size_t index, std::size_t line) {
  RawRecord r;
  r.index = index;
  r.line = line;
  if (!value.is_object())
    r.problem = RowProblem{RowIssue::not_an_object, std::string("the row is a JSON ") + value.type_name()};
  r.value = std::move(value);
  return r;
}

std::vector<RawRecord> records_of_document(json doc, std::string_view name) {
  std::vector<RawRecord> records;
  if (doc.is_array()) {
    records.reserve(doc.size());
    for (std::size_t i = 0; i < doc.size(); ++i) records.push_back(make_record(std::move(doc[i]), i, 0));
    return records;
  }
  // Columnar form: {"col": [v0, v1, ...], ...} with lists of one length.
  const std::string not_columnar =
      std::string(name) +
      ": the file is one JSON object that is not columnar; write one JSON object per line (JSON lines), a JSON list "
      "of row objects, or a columnar object whose values are lists of equal length ({\"query\": [..], \"response\": "
      "[..]})";
  if (!doc.is_object() || doc.empty()) throw DatasetError(not_columnar);
  std::size_t rows = 0;
  bool first = true;
  for (const auto& [key, column] : doc.items()) {
    if (!column.is_array() || (!first && column.size() != rows)) throw DatasetError(not_columnar);
    rows = column.size();
    first = false;
  }
  records.reserve(rows);
  for (std::size_t i = 0; i < rows; ++i) {
    json row = json::object();
    for (auto& [key, column] : doc.items()) row[key] = std::move(column[i]);
    records.push_back(make_record(std::move(row), i, 0));
  }
  return records;
}

// nlohmann reports a number beyond double's range (1e309) as out_of_range, without a position: not a
// parse_error, so it needs its own message.
[[noreturn]] void throw_number_out_of_range(std::string_view name, std::size_t line) {
  throw DatasetError(std::string(name) + (line ? " line " + std::to_string(line) : std::string()) +
                     ": invalid JSON: a number is too large for a 64-bit float (e.g. 1e309)");
}

json parse_document(std::string_view text, std::string_view name) {
  try {
    return json::parse(text);
  } catch (const json::parse_error& e) {
    throw_bad_document(text, name, e);
  } catch (const json::out_of_range&) {
    throw_number_out_of_range(name, 0);
  }
}

}  // namespace

std::vector<RawRecord> parse_json_records(std::string_view text, std::string_view name) {
  text = strip_bom(text);
  const std::size_t first = text.find_first_not_of(" \t\r\n");
  if (first == std::string_view::npos) return {};
  if (text[first] == '[') return records_of_document(parse_document(text, name), name);

  std::vector<RawRecord> records;
  std::size_t line_no = 0;
  std::size_t start = 0;
  bool first_row = true;
  while (start <= text.size()) {
    std::size_t end = text.find('\n', start);
    if (end == std::string_view::npos) end = text.size();
    ++line_no;
    const std::string_view line = text.substr(start, end - start);
    if (line.size() > kMaxRowBytes) {
      records.push_back(oversized_row(line.size(), records.size(), line_no));
      first_row = false;
    } else if (!is_blank(line)) {
      try {
        records.push_back(make_record(json::parse(line), records.size(), line_no));
      } catch (const json::parse_error& e) {
        // A first line that is not a whole value is most likely a pretty-printed document, not JSON lines.
        if (first_row) return records_of_document(parse_document(text, name), name);
        throw_bad_json(name, line_no, e.byte, e, " (each line of a JSON lines file must be one complete JSON object)");
      } catch (const json::out_of_range&) {
        throw_number_out_of_range(name, line_no);
      }
      first_row = false;
    }
    if (end == text.size()) break;
    start = end + 1;
  }
  return records;
}

}  // namespace megaswift::datasets
