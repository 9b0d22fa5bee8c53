#include "utf8.hpp"

namespace hf_bpe::utf8 {

Scan scan(const unsigned char* p, size_t n) {
  unsigned char b = p[0];
  if (b < 0x80) return {Scan::kValid, 1, b};
  size_t need;
  unsigned char lo = 0x80, hi = 0xBF;  // allowed range of the second byte (Unicode table 3-7)
  char32_t cp;
  if (b >= 0xC2 && b <= 0xDF) {
    need = 2, cp = b & 0x1F;
  } else if (b >= 0xE0 && b <= 0xEF) {
    need = 3, cp = b & 0x0F;
    if (b == 0xE0) lo = 0xA0;
    if (b == 0xED) hi = 0x9F;
  } else if (b >= 0xF0 && b <= 0xF4) {
    need = 4, cp = b & 0x07;
    if (b == 0xF0) lo = 0x90;
    if (b == 0xF4) hi = 0x8F;
  } else {
    return {Scan::kInvalid, 1, 0};
  }
  for (size_t k = 1; k < need; ++k) {
    if (k >= n) return {Scan::kIncomplete, k, 0};
    unsigned char c = p[k];
    unsigned char l = k == 1 ? lo : 0x80, h = k == 1 ? hi : 0xBF;
    if (c < l || c > h) return {Scan::kInvalid, k, 0};
    cp = (cp << 6) | (c & 0x3F);
  }
  return {Scan::kValid, need, cp};
}

bool is_valid(std::string_view s) {
  const auto* p = reinterpret_cast<const unsigned char*>(s.data());
  size_t n = s.size(), i = 0;
  while (i < n) {
    // ASCII fast path, eight bytes at a time.
    while (i + 8 <= n) {
      uint64_t w;
      __builtin_memcpy(&w, p + i, 8);
      if (w & 0x8080808080808080ull) break;
      i += 8;
    }
    if (i >= n) break;
    if (p[i] < 0x80) {
      ++i;
      continue;
    }
    Scan sc = scan(p + i, n - i);
    if (sc.kind != Scan::kValid) return false;
    i += sc.length;
  }
  return true;
}

std::string repair(std::string_view s) {
  if (is_valid(s)) return std::string(s);
  const auto* p = reinterpret_cast<const unsigned char*>(s.data());
  std::string out;
  out.reserve(s.size() + 16);
  size_t i = 0;
  while (i < s.size()) {
    Scan sc = scan(p + i, s.size() - i);
    if (sc.kind == Scan::kValid) {
      out.append(s.data() + i, sc.length);
    } else {
      out += kReplacement;  // an incomplete sequence at the very end is invalid too
    }
    i += sc.length;
  }
  return out;
}

size_t complete_prefix(std::string_view s) {
  const auto* p = reinterpret_cast<const unsigned char*>(s.data());
  size_t i = 0;
  while (i < s.size()) {
    Scan sc = scan(p + i, s.size() - i);
    if (sc.kind == Scan::kIncomplete) return i;
    i += sc.length;
  }
  return i;
}

void append(std::string& out, char32_t cp) {
  if (cp < 0x80) {
    out += static_cast<char>(cp);
  } else if (cp < 0x800) {
    out += static_cast<char>(0xC0 | (cp >> 6));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  } else if (cp < 0x10000) {
    out += static_cast<char>(0xE0 | (cp >> 12));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  } else {
    out += static_cast<char>(0xF0 | (cp >> 18));
    out += static_cast<char>(0x80 | ((cp >> 12) & 0x3F));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  }
}

char32_t next(std::string_view s, size_t& i) {
  Scan sc = scan(reinterpret_cast<const unsigned char*>(s.data()) + i, s.size() - i);
  i += sc.length;
  return sc.kind == Scan::kValid ? sc.code_point : 0xFFFD;
}

size_t previous_start(std::string_view s, size_t end) {
  size_t i = end;
  while (i > 0) {
    --i;
    if ((static_cast<unsigned char>(s[i]) & 0xC0) != 0x80) break;
  }
  return i;
}

}  // namespace hf_bpe::utf8
