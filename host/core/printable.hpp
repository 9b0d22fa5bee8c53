// Text from a plugin (its names, versions, descriptions, messages) made safe to print. Such text reaches log
// lines and error messages; a control character in it (an ANSI escape, a carriage return, a newline) could
// repaint the user's terminal or forge a log line, and a stray non-UTF-8 byte breaks JSON output and readers.
#pragma once

#include <string>
#include <string_view>

namespace megaswift::host {

// `text` with everything that is not printable UTF-8 written as \xNN, one escape per byte: the C0 controls
// and DEL, the C1 controls (U+0080-U+009F), the characters that reorder or break lines behind the reader's
// back (U+2028, U+2029, the bidirectional embeddings, overrides and isolates U+202A-U+202E, U+2066-U+2069),
// and every byte that is not part of a well-formed UTF-8 sequence. Printable UTF-8 passes unchanged, so
// clean text (accents, CJK, emoji) costs nothing. Backslashes stay as they are: the escapes are for a
// reader, not for decoding back.
std::string printable(std::string_view text);

// True when printable(text) would return `text` unchanged.
bool is_printable(std::string_view text);

// The byte offset of the first byte that does not start a well-formed UTF-8 sequence (the rules of printable()),
// or std::string_view::npos when `text` is all UTF-8.
size_t first_invalid_utf8(std::string_view text);

}  // namespace megaswift::host
