#include "added_tokens.hpp"

#include "utf8.hpp"

#include <utf8proc.h>

#include <algorithm>

namespace hf_bpe {

bool is_white_space(char32_t c) {
  return (c >= 0x09 && c <= 0x0D) || c == 0x20 || c == 0x85 || c == 0xA0 || c == 0x1680 || (c >= 0x2000 && c <= 0x200A) ||
         c == 0x2028 || c == 0x2029 || c == 0x202F || c == 0x205F || c == 0x3000;
}

bool is_word_char(char32_t c) {
  if (c < 0x80) return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_';
  if (c == 0x200C || c == 0x200D) return true;
  switch (utf8proc_category(static_cast<utf8proc_int32_t>(c))) {
    case UTF8PROC_CATEGORY_LU: case UTF8PROC_CATEGORY_LL: case UTF8PROC_CATEGORY_LT: case UTF8PROC_CATEGORY_LM:
    case UTF8PROC_CATEGORY_LO: case UTF8PROC_CATEGORY_NL: case UTF8PROC_CATEGORY_MN: case UTF8PROC_CATEGORY_MC:
    case UTF8PROC_CATEGORY_ME: case UTF8PROC_CATEGORY_ND: case UTF8PROC_CATEGORY_PC:
      return true;
    default:
      return false;
  }
}

void AddedTokenMatcher::build(const std::vector<const AddedToken*>& tokens, const std::vector<std::string>& patterns) {
  tokens_ = tokens;
  nodes_.assign(1, Node{});
  root_.fill(-1);
  for (size_t t = 0; t < tokens.size(); ++t) {
    const std::string& p = patterns[t];
    if (p.empty()) continue;
    int32_t node = 0;
    for (size_t i = 0; i < p.size(); ++i) {
      unsigned char c = static_cast<unsigned char>(p[i]);
      int32_t child = -1;
      if (node == 0) {
        child = root_[c];
      } else {
        for (auto& [b, n] : nodes_[node].children)
          if (b == c) child = n;
      }
      if (child < 0) {
        child = static_cast<int32_t>(nodes_.size());
        nodes_.push_back(Node{});
        if (node == 0) root_[c] = child;
        else nodes_[node].children.emplace_back(c, child);
      }
      node = child;
    }
    // The first token with a given pattern wins, as aho-corasick reports the lowest pattern id.
    if (nodes_[node].token < 0) nodes_[node].token = static_cast<int32_t>(t);
  }
}

int32_t AddedTokenMatcher::longest_at(std::string_view text, size_t pos, size_t& end) const {
  int32_t node = root_[static_cast<unsigned char>(text[pos])];
  int32_t best = -1;
  size_t i = pos + 1;
  while (node >= 0) {
    if (nodes_[node].token >= 0) {
      best = nodes_[node].token;
      end = i;
    }
    if (i >= text.size()) break;
    unsigned char c = static_cast<unsigned char>(text[i]);
    int32_t next = -1;
    for (auto& [b, n] : nodes_[node].children)
      if (b == c) next = n;
    node = next;
    ++i;
  }
  return best;
}

void AddedTokenMatcher::split(std::string_view text, bool skip_special, std::vector<Segment>& out) const {
  out.clear();
  size_t start_offset = 0;
  size_t pos = 0;
  while (!tokens_.empty() && pos < text.size()) {
    if (root_[static_cast<unsigned char>(text[pos])] < 0) {
      ++pos;
      continue;
    }
    size_t stop = 0;
    int32_t t = longest_at(text, pos, stop);
    if (t < 0) {
      ++pos;
      continue;
    }
    size_t start = pos;
    pos = stop;  // matches never overlap, even when the match below is passed over
    const AddedToken& token = *tokens_[t];
    if (skip_special && token.special) continue;
    if (token.single_word) {
      size_t before = start == 0 ? 0 : utf8::previous_start(text, start);
      bool start_space = start == 0 || !is_word_char(utf8::next(text, before));
      size_t after = stop;
      bool stop_space = stop == text.size() || !is_word_char(utf8::next(text, after));
      if (!start_space || !stop_space) continue;
    }
    if (token.lstrip) {
      size_t new_start = start;
      while (new_start > 0) {
        size_t prev = utf8::previous_start(text, new_start);
        size_t k = prev;
        if (!is_white_space(utf8::next(text, k))) break;
        new_start = prev;
      }
      start = std::max(new_start, start_offset);
    }
    if (token.rstrip) {
      while (stop < text.size()) {
        size_t k = stop;
        if (!is_white_space(utf8::next(text, k))) break;
        stop = k;
      }
    }
    if (start_offset < start) out.push_back(Segment{start_offset, start, -1});
    out.push_back(Segment{start, stop, token.id});
    start_offset = stop;
  }
  if (start_offset != text.size()) out.push_back(Segment{start_offset, text.size(), -1});
}

}  // namespace hf_bpe
