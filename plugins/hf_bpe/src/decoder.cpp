#include "decoder.hpp"

#include "byte_level.hpp"
#include "utf8.hpp"

namespace hf_bpe {

namespace {

class ByteLevelDecoder final : public Decoder {
 public:
  void decode_chain(std::vector<std::string>& tokens) const override {
    std::string bytes;
    for (auto& t : tokens) bytes += *token_bytes(std::move(t));
    tokens.assign(1, utf8::repair(bytes));
  }
  // A token spelled outside the byte alphabet (an added token with a space, say) passes as is.
  std::optional<std::string> token_bytes(std::string token) const override {
    auto b = byte_level::to_bytes(token);
    return b ? std::move(*b) : std::move(token);
  }
};

std::optional<unsigned char> fallback_byte(std::string_view t) {
  // "<0xAB>"
  if (t.size() != 6 || t.substr(0, 3) != "<0x" || t[5] != '>') return std::nullopt;
  auto hex = [](char c) -> int {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    return -1;
  };
  int hi = hex(t[3]), lo = hex(t[4]);
  if (hi < 0 || lo < 0) return std::nullopt;
  return static_cast<unsigned char>(hi * 16 + lo);
}

class ByteFallbackDecoder final : public Decoder {
 public:
  void decode_chain(std::vector<std::string>& tokens) const override {
    std::vector<std::string> out;
    std::string pending;
    size_t pending_count = 0;
    auto flush = [&] {
      if (!pending_count) return;
      if (utf8::is_valid(pending)) {
        out.push_back(pending);
      } else {
        for (size_t i = 0; i < pending_count; ++i) out.emplace_back(utf8::kReplacement);
      }
      pending.clear();
      pending_count = 0;
    };
    for (auto& t : tokens) {
      if (auto b = fallback_byte(t)) {
        pending += static_cast<char>(*b);
        ++pending_count;
      } else {
        flush();
        out.push_back(std::move(t));
      }
    }
    flush();
    tokens.swap(out);
  }
  std::optional<std::string> token_bytes(std::string token) const override {
    if (auto b = fallback_byte(token)) return std::string(1, static_cast<char>(*b));
    return token;
  }
};

class FuseDecoder final : public Decoder {
 public:
  void decode_chain(std::vector<std::string>& tokens) const override {
    std::string all;
    for (auto& t : tokens) all += t;
    tokens.assign(1, std::move(all));
  }
  std::optional<std::string> token_bytes(std::string token) const override { return token; }
};

class StripDecoder final : public Decoder {
 public:
  StripDecoder(char32_t content, size_t start, size_t stop) : content_(content), start_(start), stop_(stop) {}
  void decode_chain(std::vector<std::string>& tokens) const override {
    for (auto& t : tokens) {
      size_t begin = 0;
      for (size_t n = 0; n < start_ && begin < t.size(); ++n) {
        size_t k = begin;
        if (utf8::next(t, k) != content_) break;
        begin = k;
      }
      size_t end = t.size();
      for (size_t n = 0; n < stop_ && end > begin; ++n) {
        size_t prev = utf8::previous_start(t, end), k = prev;
        if (utf8::next(t, k) != content_) break;
        end = prev;
      }
      t = t.substr(begin, end - begin);
    }
  }
  std::optional<std::string> token_bytes(std::string) const override { return std::nullopt; }

 private:
  char32_t content_;
  size_t start_, stop_;
};

class ReplaceDecoder final : public Decoder {
 public:
  ReplaceDecoder(std::string from, std::string to) : from_(std::move(from)), to_(std::move(to)) {}
  void decode_chain(std::vector<std::string>& tokens) const override {
    for (auto& t : tokens) t = replace(t);
  }
  std::optional<std::string> token_bytes(std::string token) const override {
    // Per token only when the pattern is one character: a longer one could span two tokens.
    size_t i = 0;
    if (!from_.empty()) utf8::next(from_, i);
    if (i != from_.size()) return std::nullopt;
    return replace(token);
  }

 private:
  std::string replace(const std::string& t) const {
    if (from_.empty()) return t;
    std::string out;
    size_t i = 0;
    while (true) {
      size_t j = t.find(from_, i);
      if (j == std::string::npos) break;
      out.append(t, i, j - i);
      out += to_;
      i = j + from_.size();
    }
    out.append(t, i, std::string::npos);
    return out;
  }
  std::string from_, to_;
};

class SequenceDecoder final : public Decoder {
 public:
  explicit SequenceDecoder(std::vector<std::unique_ptr<Decoder>> parts) : parts_(std::move(parts)) {}
  void decode_chain(std::vector<std::string>& tokens) const override {
    for (const auto& p : parts_) p->decode_chain(tokens);
  }
  std::optional<std::string> token_bytes(std::string token) const override {
    for (const auto& p : parts_) {
      auto next = p->token_bytes(std::move(token));
      if (!next) return std::nullopt;
      token = std::move(*next);
    }
    return token;
  }

 private:
  std::vector<std::unique_ptr<Decoder>> parts_;
};

}  // namespace

std::unique_ptr<Decoder> make_decoder(const Field& config) {
  if (config.json().is_null()) return nullptr;
  std::string type = config["type"].str();
  if (type == "ByteLevel") return std::make_unique<ByteLevelDecoder>();
  if (type == "ByteFallback") return std::make_unique<ByteFallbackDecoder>();
  if (type == "Fuse") return std::make_unique<FuseDecoder>();
  if (type == "Strip") {
    std::string content = config["content"].str();
    size_t i = 0;
    char32_t c = content.empty() ? 0 : utf8::next(content, i);
    if (content.empty() || i != content.size()) config["content"].fail("expected exactly one character");
    return std::make_unique<StripDecoder>(c, static_cast<size_t>(config.int_or("start", 0)),
                                          static_cast<size_t>(config.int_or("stop", 0)));
  }
  if (type == "Replace") {
    Field pattern = config["pattern"];
    if (!pattern.has("String")) pattern.fail("only {\"String\": ...} patterns are supported in a Replace decoder");
    return std::make_unique<ReplaceDecoder>(pattern["String"].str(), config["content"].str());
  }
  if (type == "Sequence") {
    Field list = config["decoders"];
    std::vector<std::unique_ptr<Decoder>> parts;
    for (size_t i = 0; i < list.size(); ++i) {
      auto d = make_decoder(list.at(i));
      if (d) parts.push_back(std::move(d));
    }
    return std::make_unique<SequenceDecoder>(std::move(parts));
  }
  config["type"].fail("unsupported decoder type '" + type +
                      "' (supported: ByteLevel, ByteFallback, Fuse, Strip, Replace, Sequence)");
}

}  // namespace hf_bpe
