// UTF-8 checks for text read from CSV/TXT files (JSON input is checked by the JSON parser itself): a row with
// invalid bytes would otherwise only fail later, far from its file and line.
#pragma once

#include <cstddef>
#include <string_view>

namespace megaswift::datasets {

// Byte offset of the first invalid UTF-8 sequence in `text`, or text.size() when it is all valid.
std::size_t first_invalid_utf8(std::string_view text);

// 1-based line number of byte `offset` in `text`.
std::size_t line_of_offset(std::string_view text, std::size_t offset);

// `text` without a leading UTF-8 byte order mark.
std::string_view strip_bom(std::string_view text);

}  // namespace megaswift::datasets
