// GPT-2's byte-to-character table ("bytes_to_unicode"): the printable bytes map to themselves, the
// other 68 to U+0100 onwards in byte order. Byte-level vocabularies spell tokens with these
// characters, e.g. "Ġthe" for " the".
#pragma once

#include <array>
#include <optional>
#include <string>
#include <string_view>

namespace hf_bpe::byte_level {

// The character that stands for byte b.
char32_t char_of(unsigned char b);
// The byte a character stands for, or nothing for characters outside the table.
std::optional<unsigned char> byte_of(char32_t c);
// Raw bytes of a token spelled in the mapped alphabet; nothing when a character is outside it.
std::optional<std::string> to_bytes(std::string_view mapped);
// The mapped spelling of raw bytes.
std::string to_mapped(std::string_view bytes);

}  // namespace hf_bpe::byte_level
