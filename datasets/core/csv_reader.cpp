// RFC 4180 CSV with a header row. Lenient where pandas (ms-swift's CSV reader) is lenient: CRLF or LF record ends,
// blank lines skipped, a quote inside an unquoted field kept literally. Strict where silence would corrupt data:
// text after a closing quote, and a quoted field that never closes, are errors naming the line.
#include "datasets/core/error.hpp"
#include "datasets/core/record_reader.hpp"
#include "datasets/core/utf8.hpp"

#include <set>

namespace megaswift::datasets {

namespace {

struct Field {
  std::string text;
  bool quoted = false;
};

struct CsvRecord {
  std::vector<Field> fields;
  std::size_t line = 0;  // where the record starts
};

std::vector<CsvRecord> split_records(std::string_view text, std::string_view name) {
  std::vector<CsvRecord> records;
  CsvRecord record;
  Field field;
  bool in_quotes = false;
  bool after_closing_quote = false;
  bool record_started = false;
  std::size_t line = 1;
  std::size_t quote_line = 0;
  record.line = 1;

  auto end_field = [&] {
    record.fields.push_back(std::move(field));
    field = Field{};
    after_closing_quote = false;
  };
  auto end_record = [&] {
    end_field();
    const bool blank_line = record.fields.size() == 1 && !record.fields[0].quoted && record.fields[0].text.empty();
    if (!blank_line) records.push_back(std::move(record));
    record = CsvRecord{};
    record_started = false;
  };

  for (std::size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (!record_started) {
      record.line = line;
      record_started = true;
    }
    if (in_quotes) {
      if (c == '"') {
        if (i + 1 < text.size() && text[i + 1] == '"') {
          field.text += '"';
          ++i;
        } else {
          in_quotes = false;
          after_closing_quote = true;
        }
      } else {
        if (c == '\n') ++line;
        field.text += c;
      }
      continue;
    }
    if (c == ',') {
      end_field();
    } else if (c == '\n' || c == '\r') {
      if (c == '\r' && i + 1 < text.size() && text[i + 1] == '\n') ++i;
      end_record();
      ++line;
    } else if (after_closing_quote) {
      throw DatasetError(std::string(name) + " line " + std::to_string(line) +
                         ": unexpected text after a closing quote; inside a quoted field write a quote as \"\"");
    } else if (c == '"' && field.text.empty() && !field.quoted) {
      in_quotes = true;
      field.quoted = true;
      quote_line = line;
    } else {
      field.text += c;
    }
  }
  if (in_quotes)
    throw DatasetError(std::string(name) + " line " + std::to_string(quote_line) +
                       ": a quoted field opened here is never closed (a quote inside a quoted field is written \"\")");
  if (record_started) end_record();
  return records;
}

}  // namespace

std::vector<RawRecord> parse_csv_records(std::string_view text, std::string_view name) {
  text = strip_bom(text);
  if (const std::size_t bad = first_invalid_utf8(text); bad != text.size())
    throw DatasetError(std::string(name) + " line " + std::to_string(line_of_offset(text, bad)) +
                       ": invalid UTF-8 (re-encode the file as UTF-8)");
  std::vector<CsvRecord> csv = split_records(text, name);
  if (csv.empty()) return {};

  // Header names; an empty one gets pandas' "Unnamed: <i>" (the index column pandas' to_csv writes).
  std::vector<std::string> header;
  std::set<std::string> seen;
  for (std::size_t i = 0; i < csv[0].fields.size(); ++i) {
    std::string column = csv[0].fields[i].text;
    if (column.empty()) column = "Unnamed: " + std::to_string(i);
    if (!seen.insert(column).second)
      throw DatasetError(std::string(name) + " line " + std::to_string(csv[0].line) + ": column '" + column +
                         "' appears twice in the header row; rename one of them");
    header.push_back(std::move(column));
  }

  std::vector<RawRecord> records;
  records.reserve(csv.size() - 1);
  for (std::size_t r = 1; r < csv.size(); ++r) {
    RawRecord rec;
    rec.index = r - 1;
    rec.line = csv[r].line;
    rec.value = nlohmann::json::object();
    const auto& fields = csv[r].fields;
    if (fields.size() != header.size()) {
      rec.problem = RowProblem{RowIssue::field_count_mismatch, std::to_string(fields.size()) + " fields, the header has " +
                                                                   std::to_string(header.size())};
    } else {
      for (std::size_t i = 0; i < fields.size(); ++i) {
        if (fields[i].text.empty())
          rec.value[header[i]] = nullptr;  // pandas reads empty cells (quoted or not) as missing
        else
          rec.value[header[i]] = fields[i].text;
      }
    }
    records.push_back(std::move(rec));
  }
  return records;
}

}  // namespace megaswift::datasets
