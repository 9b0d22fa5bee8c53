#include "pre_tokenizer.hpp"

#include <algorithm>
#include <utility>

namespace hf_bpe {

namespace {

enum class Behavior { kRemoved, kIsolated, kMergedWithPrevious, kMergedWithNext, kContiguous };

Behavior parse_behavior(const Field& f) {
  std::string b = f.str();
  if (b == "Removed") return Behavior::kRemoved;
  if (b == "Isolated") return Behavior::kIsolated;
  if (b == "MergedWithPrevious") return Behavior::kMergedWithPrevious;
  if (b == "MergedWithNext") return Behavior::kMergedWithNext;
  if (b == "Contiguous") return Behavior::kContiguous;
  f.fail("unknown split behavior '" + b + "' (Removed, Isolated, MergedWithPrevious, MergedWithNext, Contiguous)");
}

std::string escape_literal(const std::string& s) {
  std::string out;
  for (char c : s) {
    if (std::string_view("\\^$.|?*+()[]{}-/#&~ ").find(c) != std::string_view::npos) out += '\\';
    out += c;
  }
  return out;
}

// HF's NormalizedString::split over regex matches.
class RegexSplit final : public PreTokenizerStep {
 public:
  RegexSplit(const std::string& pattern, const std::string& where, Behavior behavior, bool invert)
      : regex_(Regex::with_unicode_white_space(pattern), where), behavior_(behavior), invert_(invert) {}

  void apply(std::vector<std::string_view>& pieces, Arena&) const override {
    std::vector<std::string_view> out;
    out.reserve(pieces.size() * 4);
    std::vector<std::pair<size_t, size_t>> found;
    std::vector<Segment> segments, merged;
    for (std::string_view piece : pieces) {
      found.clear();
      regex_.find_all(piece, found);
      segments.clear();
      size_t prev = 0;
      for (auto [s, e] : found) {
        if (prev != s) segments.push_back({prev, s, invert_});
        segments.push_back({s, e, !invert_});
        prev = e;
      }
      if (prev != piece.size()) segments.push_back({prev, piece.size(), invert_});
      combine(segments, merged);
      for (const Segment& seg : merged)
        if (!seg.remove && seg.end > seg.start) out.push_back(piece.substr(seg.start, seg.end - seg.start));
    }
    pieces.swap(out);
  }

 private:
  struct Segment {
    size_t start, end;
    bool flag;  // is_match before combining, remove after
    bool remove = false;
  };

  void combine(const std::vector<Segment>& in, std::vector<Segment>& out) const {
    out.clear();
    bool previous_match = false;
    switch (behavior_) {
      case Behavior::kIsolated:
        for (const Segment& s : in) out.push_back({s.start, s.end, false, false});
        break;
      case Behavior::kRemoved:
        for (const Segment& s : in) out.push_back({s.start, s.end, false, s.flag});
        break;
      case Behavior::kMergedWithPrevious:
        for (const Segment& s : in) {
          if (s.flag && !previous_match && !out.empty()) out.back().end = s.end;
          else out.push_back({s.start, s.end, false, false});
          previous_match = s.flag;
        }
        break;
      case Behavior::kMergedWithNext:
        for (auto it = in.rbegin(); it != in.rend(); ++it) {
          if (it->flag && !previous_match && !out.empty()) out.back().start = it->start;
          else out.push_back({it->start, it->end, false, false});
          previous_match = it->flag;
        }
        std::reverse(out.begin(), out.end());
        break;
      case Behavior::kContiguous:
        for (const Segment& s : in) {
          if (s.flag == previous_match && !out.empty()) out.back().end = s.end;
          else out.push_back({s.start, s.end, false, false});
          previous_match = s.flag;
        }
        break;
    }
  }

  Regex regex_;
  Behavior behavior_;
  bool invert_;
};

// GPT-2's pattern, used by ByteLevel when use_regex is true.
constexpr const char* kGpt2Pattern = R"('s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+)";

class ByteLevelStep final : public PreTokenizerStep {
 public:
  ByteLevelStep(bool add_prefix_space, bool use_regex, const std::string& where) : add_prefix_space_(add_prefix_space) {
    if (use_regex) split_ = std::make_unique<RegexSplit>(kGpt2Pattern, where, Behavior::kIsolated, false);
  }
  void apply(std::vector<std::string_view>& pieces, Arena& arena) const override {
    if (add_prefix_space_) {
      for (auto& p : pieces) {
        if (!p.empty() && p.front() != ' ') {
          std::string prefixed;
          prefixed.reserve(p.size() + 1);
          prefixed += ' ';
          prefixed.append(p);
          arena.push_back(std::move(prefixed));
          p = arena.back();
        }
      }
    }
    if (split_) split_->apply(pieces, arena);
  }

 private:
  bool add_prefix_space_;
  std::unique_ptr<RegexSplit> split_;
};

}  // namespace

PreTokenizer::PreTokenizer(const Field& config) {
  if (config.json().is_null()) return;
  add(config, true);
}

void PreTokenizer::add(const Field& config, bool last) {
  std::string type = config["type"].str();
  if (type == "Sequence") {
    Field list = config["pretokenizers"];
    for (size_t i = 0; i < list.size(); ++i) add(list.at(i), last && i + 1 == list.size());
    return;
  }
  if (byte_level_) {
    config.fail("a '" + type + "' pre-tokenizer after ByteLevel is not supported (ByteLevel must come last)");
  }
  if (type == "Split") {
    Field pattern = config["pattern"];
    Behavior behavior = parse_behavior(config["behavior"]);
    bool invert = config.bool_or("invert", false);
    std::string where = "'" + config.file() + "': field '" + pattern.path() + "'";
    if (auto re = pattern.get("Regex")) {
      steps_.push_back(std::make_unique<RegexSplit>(re->str(), where, behavior, invert));
    } else if (auto lit = pattern.get("String")) {
      steps_.push_back(std::make_unique<RegexSplit>(escape_literal(lit->str()), where, behavior, invert));
    } else {
      pattern.fail("expected {\"Regex\": ...} or {\"String\": ...}");
    }
    return;
  }
  if (type == "ByteLevel") {
    if (!last) config.fail("ByteLevel must be the last pre-tokenizer (its byte mapping is applied by the model)");
    steps_.push_back(std::make_unique<ByteLevelStep>(config.bool_or("add_prefix_space", true),
                                                     config.bool_or("use_regex", true),
                                                     "'" + config.file() + "': field '" + config.path() + "'"));
    byte_level_ = true;
    return;
  }
  if (type == "Digits") {
    bool individual = config.bool_or("individual_digits", false);
    std::string where = "'" + config.file() + "': field '" + config.path() + "'";
    steps_.push_back(std::make_unique<RegexSplit>(individual ? "\\p{N}" : "\\p{N}+", where, Behavior::kIsolated, false));
    return;
  }
  config["type"].fail("unsupported pre-tokenizer type '" + type + "' (supported: Split, ByteLevel, Digits, Sequence)");
}

void PreTokenizer::split(std::string_view text, std::vector<std::string_view>& pieces, Arena& arena) const {
  pieces.clear();
  if (text.empty()) return;
  pieces.push_back(text);
  for (const auto& step : steps_) step->apply(pieces, arena);
}

}  // namespace hf_bpe
