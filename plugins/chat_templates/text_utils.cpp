#include "text_utils.hpp"

namespace megaswift::chat_templates {
namespace {

// Decodes the UTF-8 character starting at s[i]; returns its length, or 0 when the bytes there are
// not a well-formed character (such bytes are never whitespace).
size_t decode_at(std::string_view s, size_t i, char32_t& out) {
  auto byte = [&](size_t k) { return static_cast<unsigned char>(s[k]); };
  unsigned char b = byte(i);
  size_t len = b < 0x80 ? 1 : (b >> 5) == 0x6 ? 2 : (b >> 4) == 0xE ? 3 : (b >> 3) == 0x1E ? 4 : 0;
  if (len == 0 || i + len > s.size()) return 0;
  char32_t c = len == 1 ? b : len == 2 ? (b & 0x1F) : len == 3 ? (b & 0x0F) : (b & 0x07);
  for (size_t k = 1; k < len; ++k) {
    if ((byte(i + k) & 0xC0) != 0x80) return 0;
    c = (c << 6) | (byte(i + k) & 0x3F);
  }
  out = c;
  return len;
}

}  // namespace

bool is_python_space(char32_t c) {
  if (c >= 0x09 && c <= 0x0D) return true;
  if (c >= 0x1C && c <= 0x20) return true;
  if (c < 0x80) return false;
  if (c == 0x85 || c == 0xA0 || c == 0x1680) return true;
  if (c >= 0x2000 && c <= 0x200A) return true;
  return c == 0x2028 || c == 0x2029 || c == 0x202F || c == 0x205F || c == 0x3000;
}

size_t leading_space_bytes(std::string_view s) {
  size_t i = 0;
  while (i < s.size()) {
    char32_t c = 0;
    size_t len = decode_at(s, i, c);
    if (len == 0 || !is_python_space(c)) break;
    i += len;
  }
  return i;
}

size_t trailing_space_bytes(std::string_view s) {
  size_t end = s.size();
  while (end > 0) {
    // Step back to the start of the last character (at most 4 bytes).
    size_t start = end - 1;
    while (start > 0 && end - start < 4 && (static_cast<unsigned char>(s[start]) & 0xC0) == 0x80) --start;
    char32_t c = 0;
    size_t len = decode_at(s, start, c);
    if (len == 0 || start + len != end || !is_python_space(c)) break;
    end = start;
  }
  return s.size() - end;
}

std::string_view python_strip(std::string_view s) {
  s.remove_prefix(leading_space_bytes(s));
  s.remove_suffix(trailing_space_bytes(s));
  return s;
}

std::string_view after_last(std::string_view s, std::string_view sep) {
  size_t pos = s.rfind(sep);
  return pos == std::string_view::npos ? s : s.substr(pos + sep.size());
}

}  // namespace megaswift::chat_templates
