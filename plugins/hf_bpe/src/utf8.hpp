// UTF-8 scanning and repair. Invalid input is repaired the way Unicode recommends ("maximal subpart":
// each maximal prefix of a well-formed sequence, or a lone bad byte, becomes one U+FFFD), which is
// also what Rust's String::from_utf8_lossy, Python's errors="replace" and the WHATWG TextDecoder do.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace hf_bpe::utf8 {

inline constexpr std::string_view kReplacement = "\xEF\xBF\xBD";  // U+FFFD

// What starts at p[0..n): a whole character, a broken sequence, or the start of a character that the
// buffer cuts off.
struct Scan {
  enum Kind { kValid, kInvalid, kIncomplete } kind;
  size_t length;  // bytes of the character, of the maximal invalid subpart, or available so far
  char32_t code_point;  // for kValid
};
Scan scan(const unsigned char* p, size_t n);

bool is_valid(std::string_view s);
// `s` with every invalid subsequence replaced by U+FFFD; `s` itself when valid.
std::string repair(std::string_view s);
// Length of the longest prefix of `s` that ends on a character boundary, treating a trailing
// incomplete-but-possibly-valid sequence as not yet there. Bytes before that are valid or invalid,
// never "maybe".
size_t complete_prefix(std::string_view s);

void append(std::string& out, char32_t cp);
// Decodes the character at s[i] (which must be valid UTF-8) and advances i.
char32_t next(std::string_view s, size_t& i);
// Decodes the character ending at s[end) (valid UTF-8) and returns its start.
size_t previous_start(std::string_view s, size_t end);

}  // namespace hf_bpe::utf8
