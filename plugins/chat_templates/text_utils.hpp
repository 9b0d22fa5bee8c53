// Small string helpers that reproduce the Python behaviour ms-swift's templates rely on.
#pragma once

#include <string>
#include <string_view>

namespace megaswift::chat_templates {

// True for the code points Python's str.isspace() accepts (and the regex \s matches in a str
// pattern): ASCII whitespace, U+001C..U+001F, U+0085, U+00A0, U+1680, U+2000..U+200A, U+2028,
// U+2029, U+202F, U+205F, U+3000.
bool is_python_space(char32_t c);

// Length in bytes of the run of Python whitespace at the start of `s` (UTF-8).
size_t leading_space_bytes(std::string_view s);
// Length in bytes of the run of Python whitespace at the end of `s` (UTF-8).
size_t trailing_space_bytes(std::string_view s);
// Python's s.strip().
std::string_view python_strip(std::string_view s);

// Python's s.split(sep)[-1]: the text after the last occurrence of `sep`, or all of `s`.
std::string_view after_last(std::string_view s, std::string_view sep);

}  // namespace megaswift::chat_templates
