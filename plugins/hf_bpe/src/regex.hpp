// A compiled PCRE2 pattern (UTF + UCP, JIT when available) and a leftmost-first find_all over UTF-8
// text. Matching state (match data, JIT stack) is per thread, so one Regex serves every thread.
#pragma once

#include <cstddef>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace hf_bpe {

class Regex {
 public:
  // Throws megaswift::sdk::Error naming `where` when the pattern does not compile.
  Regex(const std::string& pattern, const std::string& where);
  ~Regex();
  Regex(const Regex&) = delete;
  Regex& operator=(const Regex&) = delete;

  // Byte ranges [start, end) of the successive non-overlapping matches in `text` (valid UTF-8).
  // An empty match moves the search on by one character, as Rust's and Oniguruma's iterators do.
  void find_all(std::string_view text, std::vector<std::pair<size_t, size_t>>& out) const;

  // Rewrites \s and \S in an HF pattern to explicit Unicode White_Space classes: Oniguruma (what HF
  // tokenizers uses) and PCRE2 disagree on U+180E otherwise.
  static std::string with_unicode_white_space(const std::string& pattern);

 private:
  struct Code;
  std::unique_ptr<Code> code_;
};

}  // namespace hf_bpe
