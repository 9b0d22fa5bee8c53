// Added tokens ("added_tokens" of tokenizer.json): found in the text before anything else, with HF
// tokenizers' rules: leftmost-longest matching, single_word (no word character on either side),
// lstrip/rstrip (the token swallows the whitespace beside it), and two passes: tokens with
// normalized=false match the raw text, the others match the normalized text.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace hf_bpe {

struct AddedToken {
  int32_t id = -1;
  std::string content;
  bool single_word = false;
  bool lstrip = false;
  bool rstrip = false;
  bool normalized = true;
  bool special = false;
};

// One part of a text: a found added token (id >= 0) or plain text to tokenize (id == -1).
struct Segment {
  size_t start, end;
  int32_t id;
};

class AddedTokenMatcher {
 public:
  // `patterns[i]` is the text that finds `tokens[i]` (its content, normalized for the second pass).
  void build(const std::vector<const AddedToken*>& tokens, const std::vector<std::string>& patterns);
  bool empty() const { return tokens_.empty(); }
  // HF's AddedVocabulary::find_matches. With `skip_special`, special tokens are passed over as text.
  void split(std::string_view text, bool skip_special, std::vector<Segment>& out) const;

 private:
  struct Node {
    std::vector<std::pair<unsigned char, int32_t>> children;
    int32_t token = -1;  // index into tokens_ of the pattern ending here
  };
  // The longest pattern starting at `pos`: its token index and end, or -1.
  int32_t longest_at(std::string_view text, size_t pos, size_t& end) const;

  std::vector<const AddedToken*> tokens_;
  std::vector<Node> nodes_;
  std::array<int32_t, 256> root_{};
};

// Unicode White_Space (Rust's char::is_whitespace, regex \s).
bool is_white_space(char32_t c);
// Rust regex's \w: Alphabetic, marks, decimal digits, connector punctuation, joiners.
bool is_word_char(char32_t c);

}  // namespace hf_bpe
