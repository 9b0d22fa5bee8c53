// printable(): the one escaping helper for plugin-provided text in logs and messages.
#include "host/core/printable.hpp"

#include <doctest/doctest.h>

#include <string>

using megaswift::host::first_invalid_utf8;
using megaswift::host::is_printable;
using megaswift::host::printable;

TEST_CASE("printable text, ASCII or UTF-8, passes unchanged") {
  for (const std::string text : {"qwen2_5", "a b-c.d/e\\f", "caf\xc3\xa9", "\xe4\xb8\xad\xe6\x96\x87", "\xf0\x9f\x99\x82", ""}) {
    CHECK(printable(text) == text);
    CHECK(is_printable(text));
  }
}

TEST_CASE("control characters are escaped byte by byte: C0, DEL and the C1 controls") {
  CHECK(printable("a\x1b[31mred") == "a\\x1b[31mred");
  CHECK(printable("line\nforged\r\t") == "line\\x0aforged\\x0d\\x09");
  CHECK(printable(std::string("nul\0x", 5)) == "nul\\x00x");
  CHECK(printable("del\x7f") == "del\\x7f");
  CHECK(printable("csi\xc2\x9b" "2J") == "csi\\xc2\\x9b2J");  // U+009B, the one-byte CSI
  CHECK_FALSE(is_printable("a\x1b"));
  CHECK_FALSE(is_printable("\xc2\x85"));  // U+0085, next line
}

TEST_CASE("characters that reorder or break lines unseen are escaped") {
  CHECK(printable("\xe2\x80\xae" "abc") == "\\xe2\\x80\\xaeabc");  // U+202E right-to-left override
  CHECK(printable("\xe2\x81\xa6x") == "\\xe2\\x81\\xa6x");          // U+2066 left-to-right isolate
  CHECK(printable("a\xe2\x80\xa8" "b") == "a\\xe2\\x80\\xa8b");      // U+2028 line separator
  CHECK(printable("\xe2\x80\x8f") == "\xe2\x80\x8f");               // U+200F (a mark, not an override) stays
}

TEST_CASE("bytes outside well-formed UTF-8 are escaped one by one") {
  CHECK(printable("caf\xe9") == "caf\\xe9");                          // Latin-1
  CHECK(printable("\x9b") == "\\x9b");                                // a lone continuation byte
  CHECK(printable("\xc0\xaf") == "\\xc0\\xaf");                       // an overlong '/'
  CHECK(printable("\xe0\x80\xaf") == "\\xe0\\x80\\xaf");              // an overlong three-byte form
  CHECK(printable("\xed\xa0\x80") == "\\xed\\xa0\\x80");              // a surrogate
  CHECK(printable("\xf4\x90\x80\x80") == "\\xf4\\x90\\x80\\x80");     // past U+10FFFF
  CHECK(printable("end\xe2\x82") == "end\\xe2\\x82");                 // a sequence cut short
  CHECK(printable("\xff\xfe") == "\\xff\\xfe");
  CHECK_FALSE(is_printable("caf\xe9"));
}

TEST_CASE("first_invalid_utf8 finds the first byte that starts no well-formed sequence, npos for UTF-8") {
  CHECK(first_invalid_utf8("plain, caf\xc3\xa9, \xe4\xb8\xad") == std::string_view::npos);
  CHECK(first_invalid_utf8("ab\xff") == 2);
  CHECK(first_invalid_utf8("a\xc0\xafz") == 1);          // overlong '/'
  CHECK(first_invalid_utf8("xy\xed\xa0\x80") == 2);      // a surrogate
  CHECK(first_invalid_utf8("\xf4\x90\x80\x80") == 0);    // past U+10FFFF
  CHECK(first_invalid_utf8("ok\xe4\xb8") == 2);          // cut short
}
