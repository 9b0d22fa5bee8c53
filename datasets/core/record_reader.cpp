#include "datasets/core/record_reader.hpp"

#include "datasets/core/error.hpp"
#include "datasets/core/utf8.hpp"

#include <megaswift/sdk/regular_file.hpp>

#include <algorithm>
#include <cctype>
#include <cstdint>

namespace megaswift::datasets {

namespace {

std::string lower_suffix(const std::filesystem::path& file) {
  std::string ext = file.extension().string();
  std::transform(ext.begin(), ext.end(), ext.begin(), [](unsigned char c) { return std::tolower(c); });
  return ext;
}

// Only a regular file is read (sdk::RegularFile): a FIFO would block forever and /dev/zero never ends. Memory is
// bounded by the file's size when opened. Every failure keeps its reason (errno text), so an unreadable file is never
// mistaken for an empty dataset.
std::string read_file(const std::filesystem::path& file) {
  try {
    return sdk::read_regular_file(file.string(), "dataset file", UINT64_MAX);
  } catch (const sdk::Error& e) {
    const bool missing = e.code() == MSW_STATUS_NOT_FOUND;
    throw DatasetError(std::string(e.what()) + (missing ? ": check the path" : ""));
  }
}

}  // namespace

RawRecord oversized_row(std::size_t bytes, std::size_t index, std::size_t line) {
  RawRecord r;
  r.index = index;
  r.line = line;
  r.problem = RowProblem{RowIssue::row_too_large, "line " + std::to_string(line) + " has " + std::to_string(bytes) +
                                                      " bytes, more than the " + std::to_string(kMaxRowBytes) +
                                                      " a row may have; split the row or drop it"};
  return r;
}

FileType file_type_of(const std::filesystem::path& file) {
  const std::string ext = lower_suffix(file);
  if (ext == ".jsonl" || ext == ".json") return FileType::json;
  if (ext == ".csv") return FileType::csv;
  if (ext == ".txt") return FileType::txt;
  throw DatasetError("unsupported dataset file type '" + ext + "' (" + file.string() +
                     "): use .jsonl, .json, .csv or .txt (convert other formats, e.g. parquet, to jsonl first)");
}

bool is_data_file(const std::filesystem::path& file) {
  const std::string ext = lower_suffix(file);
  return std::find(std::begin(kDataFileSuffixes), std::end(kDataFileSuffixes), ext) != std::end(kDataFileSuffixes);
}

std::vector<RawRecord> read_records(const std::filesystem::path& file) {
  const FileType type = file_type_of(file);
  const std::string text = read_file(file);
  const std::string name = file.string();
  switch (type) {
    case FileType::json: return parse_json_records(text, name);
    case FileType::csv: return parse_csv_records(text, name);
    case FileType::txt: return parse_text_records(text, name);
  }
  return {};
}

std::vector<RawRecord> parse_text_records(std::string_view text, std::string_view name) {
  text = strip_bom(text);
  if (const std::size_t bad = first_invalid_utf8(text); bad != text.size())
    throw DatasetError(std::string(name) + " line " + std::to_string(line_of_offset(text, bad)) +
                       ": invalid UTF-8 (re-encode the file as UTF-8)");
  std::vector<RawRecord> records;
  std::size_t line_no = 0;
  std::size_t start = 0;
  while (start <= text.size()) {
    std::size_t end = text.find('\n', start);
    if (end == std::string_view::npos) end = text.size();
    ++line_no;
    std::string_view line = text.substr(start, end - start);
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    const bool blank = std::all_of(line.begin(), line.end(), [](unsigned char c) { return std::isspace(c); });
    if (!blank && line.size() > kMaxRowBytes) {
      records.push_back(oversized_row(line.size(), records.size(), line_no));
    } else if (!blank) {
      RawRecord r;
      r.value = {{"text", std::string(line)}};
      r.index = records.size();
      r.line = line_no;
      records.push_back(std::move(r));
    }
    if (end == text.size()) break;
    start = end + 1;
  }
  return records;
}

}  // namespace megaswift::datasets
