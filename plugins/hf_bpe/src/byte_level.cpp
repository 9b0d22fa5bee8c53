#include "byte_level.hpp"

#include "utf8.hpp"

namespace hf_bpe::byte_level {

namespace {

struct Tables {
  std::array<char32_t, 256> char_of{};
  std::array<int, 324> byte_of{};  // indexed by code point, all mapped characters are below U+0144
  Tables() {
    byte_of.fill(-1);
    int n = 0;
    for (int b = 0; b < 256; ++b) {
      bool printable = (b >= 0x21 && b <= 0x7E) || (b >= 0xA1 && b <= 0xAC) || (b >= 0xAE && b <= 0xFF);
      char32_t c = printable ? static_cast<char32_t>(b) : static_cast<char32_t>(256 + n++);
      char_of[b] = c;
      byte_of[c] = b;
    }
  }
};

const Tables& tables() {
  static const Tables t;
  return t;
}

}  // namespace

char32_t char_of(unsigned char b) { return tables().char_of[b]; }

std::optional<unsigned char> byte_of(char32_t c) {
  if (c >= tables().byte_of.size() || tables().byte_of[c] < 0) return std::nullopt;
  return static_cast<unsigned char>(tables().byte_of[c]);
}

std::optional<std::string> to_bytes(std::string_view mapped) {
  std::string out;
  out.reserve(mapped.size());
  size_t i = 0;
  while (i < mapped.size()) {
    auto b = byte_of(utf8::next(mapped, i));
    if (!b) return std::nullopt;
    out += static_cast<char>(*b);
  }
  return out;
}

std::string to_mapped(std::string_view bytes) {
  std::string out;
  out.reserve(bytes.size() * 2);
  for (unsigned char b : bytes) utf8::append(out, char_of(b));
  return out;
}

}  // namespace hf_bpe::byte_level
