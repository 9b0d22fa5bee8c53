// Reads a dataset file into raw records (JSON objects, keys as written), one per row.
//   .jsonl / .json : JSON lines, a JSON list of objects, or a columnar object {"col": [values...], ...}
//                    (what Hugging Face's json loader, and so ms-swift, accepts); the content decides, not the suffix.
//   .csv           : RFC 4180 with a header row; quoted fields may hold commas, quotes ("") and newlines;
//                    empty cells become null (as pandas reads them); all other cells stay strings.
//   .txt           : one {"text": line} record per non-blank line (a pre-training corpus).
// A file that cannot be parsed throws DatasetError naming the file and line.
#pragma once

#include "datasets/core/issues.hpp"

#include <nlohmann/json.hpp>

#include <cstddef>
#include <filesystem>
#include <optional>
#include <string_view>
#include <vector>

namespace megaswift::datasets {

struct RawRecord {
  nlohmann::json value;              // normally an object
  std::size_t index = 0;             // 0-based row position in the file
  std::size_t line = 0;              // 1-based line where the row starts; 0 when unknown (rows of one JSON document)
  std::optional<RowProblem> problem; // set by the reader when the row is already known to be unusable
};

// The most bytes one line of a JSON lines or text file may have. A longer line is dropped unparsed as
// RowIssue::row_too_large: parsing it would cost several times its size, and no training sample is that long (a
// 64 MiB row is over 10 million tokens). The file itself is read whole, so its size bounds the rest.
inline constexpr std::size_t kMaxRowBytes = std::size_t{64} << 20;

// A RawRecord for a line over kMaxRowBytes: no value, its problem says how long it is.
RawRecord oversized_row(std::size_t bytes, std::size_t index, std::size_t line);

// File types by suffix (case-insensitive); anything else is a DatasetError listing the supported ones.
enum class FileType { json, csv, txt };
FileType file_type_of(const std::filesystem::path& file);
inline constexpr std::string_view kDataFileSuffixes[] = {".jsonl", ".json", ".csv", ".txt"};
bool is_data_file(const std::filesystem::path& file);

std::vector<RawRecord> read_records(const std::filesystem::path& file);

// The parsers behind read_records, on text already in memory; `name` is used in error messages.
std::vector<RawRecord> parse_json_records(std::string_view text, std::string_view name);
std::vector<RawRecord> parse_csv_records(std::string_view text, std::string_view name);
std::vector<RawRecord> parse_text_records(std::string_view text, std::string_view name);

}  // namespace megaswift::datasets
