#include "template_spec.hpp"

#include "text_utils.hpp"

#include <algorithm>

namespace megaswift::chat_templates {
namespace {

struct Marker {
  std::string_view text;
  Piece::Kind kind;
};
constexpr Marker kMarkers[] = {{"{{SYSTEM}}", Piece::Kind::System},
                               {"{{QUERY}}", Piece::Kind::Query},
                               {"{{BOS}}", Piece::Kind::Bos},
                               {"{{EOS}}", Piece::Kind::Eos}};

}  // namespace

Pattern parse_pattern(std::string_view pattern, const std::vector<std::string>& special_tokens) {
  std::vector<std::string> specials = special_tokens;
  std::sort(specials.begin(), specials.end(), [](const auto& a, const auto& b) { return a.size() > b.size(); });
  Pattern out;
  std::string text;
  auto flush = [&] {
    if (!text.empty()) out.push_back({Piece::Kind::Text, std::move(text)});
    text.clear();
  };
  size_t i = 0;
  while (i < pattern.size()) {
    std::string_view rest = pattern.substr(i);
    bool matched = false;
    for (const Marker& m : kMarkers) {
      if (rest.starts_with(m.text)) {
        flush();
        out.push_back({m.kind, {}});
        i += m.text.size();
        matched = true;
        break;
      }
    }
    if (matched) continue;
    for (const std::string& s : specials) {
      if (!s.empty() && rest.starts_with(s)) {
        flush();
        out.push_back({Piece::Kind::Special, s});
        i += s.size();
        matched = true;
        break;
      }
    }
    if (matched) continue;
    text.push_back(pattern[i]);
    ++i;
  }
  flush();
  return out;
}

std::vector<std::string> TemplateSpec::all_stop_words() const {
  std::vector<std::string> words = stop_words;
  // ms-swift strips the suffix's last string; here that string is the text after the last
  // BOS/EOS marker ("<|im_end|>\n" -> "<|im_end|>"; a suffix ending in {{EOS}} adds nothing).
  std::string tail;
  for (auto it = suffix.rbegin(); it != suffix.rend(); ++it) {
    if (it->kind != Piece::Kind::Text && it->kind != Piece::Kind::Special) break;
    tail.insert(0, it->text);
  }
  std::string stop(python_strip(tail));
  if (!stop.empty() && std::find(words.begin(), words.end(), stop) == words.end()) words.push_back(stop);
  return words;
}

}  // namespace megaswift::chat_templates
