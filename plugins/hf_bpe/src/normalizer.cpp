#include "normalizer.hpp"

#include "utf8.hpp"

#include <utf8proc.h>

#include <cstdlib>

namespace hf_bpe {

namespace {

bool below_combining_marks(std::string_view s) {
  // Every code point below U+0300 is a starter with no decomposition of its own under NFC, and
  // nothing below U+0300 combines with a preceding character. Bytes below 0xCC are either ASCII,
  // continuation bytes, or lead bytes of U+0000..U+02FF (0xC2..0xCB).
  for (unsigned char c : s)
    if (c >= 0xCC) return false;
  return true;
}

class UnicodeForm final : public Normalizer {
 public:
  explicit UnicodeForm(NormalForm f) : form_(f) {}
  std::string normalize(std::string_view text) const override { return unicode_normalize(text, form_); }

 private:
  NormalForm form_;
};

class Lowercase final : public Normalizer {
 public:
  std::string normalize(std::string_view text) const override {
    std::string out;
    out.reserve(text.size());
    size_t i = 0;
    while (i < text.size()) {
      char32_t cp = utf8::next(text, i);
      utf8::append(out, static_cast<char32_t>(utf8proc_tolower(static_cast<utf8proc_int32_t>(cp))));
    }
    return out;
  }
};

class Prepend final : public Normalizer {
 public:
  explicit Prepend(std::string p) : prefix_(std::move(p)) {}
  std::string normalize(std::string_view text) const override {
    if (text.empty()) return std::string();
    return prefix_ + std::string(text);
  }

 private:
  std::string prefix_;
};

class ReplaceLiteral final : public Normalizer {
 public:
  ReplaceLiteral(std::string from, std::string to) : from_(std::move(from)), to_(std::move(to)) {}
  std::string normalize(std::string_view text) const override {
    std::string out;
    size_t i = 0;
    while (true) {
      size_t j = text.find(from_, i);
      if (j == std::string_view::npos) break;
      out.append(text.substr(i, j - i));
      out += to_;
      i = j + from_.size();
    }
    out.append(text.substr(i));
    return out;
  }

 private:
  std::string from_, to_;
};

class SequenceNormalizer final : public Normalizer {
 public:
  explicit SequenceNormalizer(std::vector<std::unique_ptr<Normalizer>> parts) : parts_(std::move(parts)) {}
  std::string normalize(std::string_view text) const override {
    std::string s(text);
    for (const auto& p : parts_) s = p->normalize(s);
    return s;
  }

 private:
  std::vector<std::unique_ptr<Normalizer>> parts_;
};

}  // namespace

std::string unicode_normalize(std::string_view text, NormalForm form) {
  if (below_combining_marks(text) && (form == NormalForm::kNFC || form == NormalForm::kNFD)) return std::string(text);
  int options = UTF8PROC_STABLE;
  switch (form) {
    case NormalForm::kNFC: options |= UTF8PROC_COMPOSE; break;
    case NormalForm::kNFD: options |= UTF8PROC_DECOMPOSE; break;
    case NormalForm::kNFKC: options |= UTF8PROC_COMPOSE | UTF8PROC_COMPAT; break;
    case NormalForm::kNFKD: options |= UTF8PROC_DECOMPOSE | UTF8PROC_COMPAT; break;
  }
  utf8proc_uint8_t* out = nullptr;
  utf8proc_ssize_t n = utf8proc_map(reinterpret_cast<const utf8proc_uint8_t*>(text.data()),
                                    static_cast<utf8proc_ssize_t>(text.size()), &out,
                                    static_cast<utf8proc_option_t>(options));
  if (n < 0) {
    throw megaswift::sdk::Error(MSW_STATUS_INTERNAL,
                                std::string("Unicode normalization failed: ") + utf8proc_errmsg(n));
  }
  std::string result(reinterpret_cast<const char*>(out), static_cast<size_t>(n));
  std::free(out);
  return result;
}

std::unique_ptr<Normalizer> make_normalizer(const Field& config) {
  if (config.json().is_null()) return nullptr;
  std::string type = config["type"].str();
  if (type == "NFC") return std::make_unique<UnicodeForm>(NormalForm::kNFC);
  if (type == "NFD") return std::make_unique<UnicodeForm>(NormalForm::kNFD);
  if (type == "NFKC") return std::make_unique<UnicodeForm>(NormalForm::kNFKC);
  if (type == "NFKD") return std::make_unique<UnicodeForm>(NormalForm::kNFKD);
  if (type == "Lowercase") return std::make_unique<Lowercase>();
  if (type == "Prepend") return std::make_unique<Prepend>(config["prepend"].str());
  if (type == "Replace") {
    Field pattern = config["pattern"];
    if (!pattern.has("String")) pattern.fail("only {\"String\": ...} patterns are supported in a Replace normalizer");
    return std::make_unique<ReplaceLiteral>(pattern["String"].str(), config["content"].str());
  }
  if (type == "Sequence") {
    Field list = config["normalizers"];
    std::vector<std::unique_ptr<Normalizer>> parts;
    for (size_t i = 0; i < list.size(); ++i) {
      auto p = make_normalizer(list.at(i));
      if (p) parts.push_back(std::move(p));
    }
    return std::make_unique<SequenceNormalizer>(std::move(parts));
  }
  config["type"].fail("unsupported normalizer type '" + type +
                      "' (supported: NFC, NFD, NFKC, NFKD, Lowercase, Prepend, Replace, Sequence)");
}

}  // namespace hf_bpe
