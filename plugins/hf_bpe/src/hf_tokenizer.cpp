#include "hf_tokenizer.hpp"

#include "utf8.hpp"

#include <megaswift/sdk/regular_file.hpp>

#include <cstdint>
#include <filesystem>

namespace hf_bpe {

namespace {

using megaswift::sdk::Error;

// Tokenizer files are small; a regular file only (sdk::RegularFile: a FIFO would block the load forever).
constexpr uint64_t kMaxTokenizerFileBytes = uint64_t{1} << 30;

Json read_json(const std::string& path, const char* what) {
  std::string text;
  try {
    text = megaswift::sdk::read_regular_file(path, what, kMaxTokenizerFileBytes);
  } catch (const Error& e) {
    if (e.code() != MSW_STATUS_NOT_FOUND) throw;
    throw Error(MSW_STATUS_NOT_FOUND, std::string("cannot open ") + what + " '" + path +
                                          "': check the path (a Hugging Face model directory has tokenizer.json "
                                          "and tokenizer_config.json)");
  }
  try {
    return Json::parse(text);
  } catch (const nlohmann::json::exception& e) {
    throw Error(MSW_STATUS_INVALID_ARGUMENT, std::string(what) + " '" + path + "' is not valid JSON: " + e.what());
  }
}

}  // namespace

TokenizerFiles TokenizerFiles::from_config(std::string_view config_json) {
  Json config;
  try {
    config = Json::parse(config_json.empty() ? std::string_view("{}") : config_json);
  } catch (const nlohmann::json::exception& e) {
    throw Error(MSW_STATUS_INVALID_ARGUMENT, std::string("hf_bpe: the configuration is not valid JSON: ") + e.what());
  }
  Field f(config, "hf_bpe configuration", "");
  if (!config.is_object()) f.fail("expected an object");
  TokenizerFiles files;
  if (auto dir = f.get("model_dir")) {
    std::filesystem::path d = dir->str();
    files.tokenizer_json = (d / "tokenizer.json").string();
    auto cfg = d / "tokenizer_config.json";
    if (std::filesystem::exists(cfg)) files.tokenizer_config_json = cfg.string();
  }
  if (auto p = f.get("tokenizer_json")) files.tokenizer_json = p->str();
  if (auto p = f.get("tokenizer_config_json")) files.tokenizer_config_json = p->str();
  if (files.tokenizer_json.empty())
    f.fail("give \"model_dir\" (a directory with tokenizer.json) or \"tokenizer_json\" (the file's path)");
  return files;
}

int32_t probe_model_dir(const std::filesystem::path& dir) {
  const std::filesystem::path file = dir / "tokenizer.json";
  std::error_code ec;
  if (!std::filesystem::is_regular_file(file, ec)) return 0;
  Json root;
  try {
    root = read_json(file.string(), "tokenizer.json");
  } catch (const Error&) {
    return 0;
  }
  const Json* model = root.is_object() && root.contains("model") ? &root["model"] : nullptr;
  if (!model || !model->is_object() || !model->contains("type") || (*model)["type"] != "BPE") return 0;
  // The vocabulary and merges are the slow part; the pipeline parts around them decide whether this plugin
  // reads the file. A BPE file with a part it cannot read still scores a little, so that when nothing else
  // claims it, create() explains what is missing.
  try {
    Field f(root, file.string(), "");
    if (f.get("truncation")) return kProbePartly;
    if (auto n = f.get("normalizer")) make_normalizer(*n);
    Json null_json;
    PreTokenizer pre(f.get("pre_tokenizer") ? *f.get("pre_tokenizer") : Field(null_json, f.file(), "pre_tokenizer"));
    if (auto d = f.get("decoder")) make_decoder(*d);
  } catch (const std::exception&) {
    return kProbePartly;
  }
  return kProbeReads;
}

HfTokenizer::HfTokenizer(const TokenizerFiles& files) {
  Json root = read_json(files.tokenizer_json, "tokenizer.json");
  Field f(root, files.tokenizer_json, "");
  if (!root.is_object()) f.fail("expected an object");
  if (auto t = f.get("truncation")) t->fail("truncation is not supported here (templates truncate); set it to null");

  normalizer_ = f.get("normalizer") ? make_normalizer(*f.get("normalizer")) : nullptr;
  Json null_json;
  pre_tokenizer_ = std::make_unique<PreTokenizer>(f.get("pre_tokenizer") ? *f.get("pre_tokenizer") : Field(null_json, f.file(), "pre_tokenizer"));
  model_ = std::make_unique<BpeModel>(f["model"], pre_tokenizer_->byte_level());
  decoder_ = f.get("decoder") ? make_decoder(*f.get("decoder")) : nullptr;
  if (auto list = f.get("added_tokens")) load_added_tokens(*list);

  vocab_size_ = model_->max_id() + 1;
  for (const auto& t : added_) vocab_size_ = std::max(vocab_size_, t.id + 1);

  if (!files.tokenizer_config_json.empty()) load_special_tokens(files.tokenizer_config_json);
  if (special_ids_[static_cast<int>(Special::kUnk)] < 0 && f["model"].get("unk_token"))
    special_ids_[static_cast<int>(Special::kUnk)] = token_to_id(f["model"]["unk_token"].str());
}

void HfTokenizer::load_added_tokens(const Field& list) {
  for (size_t i = 0; i < list.size(); ++i) {
    Field t = list.at(i);
    AddedToken a;
    int64_t id = t["id"].integer();
    if (id < 0 || id > INT32_MAX) t["id"].fail("expected a non-negative 32-bit id");
    if (id >= kMaxTokenId)
      t["id"].fail("id " + std::to_string(id) + " is not below " + std::to_string(kMaxTokenId) +
                   " (no vocabulary is that large; the file looks damaged)");
    a.id = static_cast<int32_t>(id);
    a.content = t["content"].str();
    a.special = t.bool_or("special", false);
    a.single_word = t.bool_or("single_word", false);
    a.lstrip = t.bool_or("lstrip", false);
    a.rstrip = t.bool_or("rstrip", false);
    a.normalized = t.bool_or("normalized", !a.special);
    if (a.content.empty()) continue;  // HF ignores empty added tokens
    if (!utf8::is_valid(a.content)) t["content"].fail("not valid UTF-8");
    added_by_content_[a.content] = a.id;
    added_by_id_[a.id] = added_.size();
    added_.push_back(std::move(a));
  }
  // HF matches special tokens first in its pattern list, then the others, each in file order; the
  // order only breaks ties between identical patterns.
  std::vector<const AddedToken*> raw, normalized;
  std::vector<std::string> raw_patterns, normalized_patterns;
  for (int pass = 0; pass < 2; ++pass) {
    for (const auto& a : added_) {
      if (a.special != (pass == 0)) continue;
      if (a.normalized) {
        normalized.push_back(&a);
        normalized_patterns.push_back(normalizer_ ? normalizer_->normalize(a.content) : a.content);
      } else {
        raw.push_back(&a);
        raw_patterns.push_back(a.content);
      }
    }
  }
  raw_matcher_.build(raw, raw_patterns);
  normalized_matcher_.build(normalized, normalized_patterns);
}

void HfTokenizer::load_special_tokens(const std::string& path) {
  Json root = read_json(path, "tokenizer_config.json");
  Field f(root, path, "");
  if (!root.is_object()) f.fail("expected an object");
  const char* names[4] = {"bos_token", "eos_token", "pad_token", "unk_token"};
  for (int k = 0; k < 4; ++k) {
    auto field = f.get(names[k]);
    if (!field) continue;
    std::string content;
    if (field->json().is_string()) content = field->str();
    else if (field->json().is_object()) content = (*field)["content"].str();
    else field->fail("expected a token string or an object with \"content\"");
    int32_t id = token_to_id(content);
    if (id < 0) field->fail("'" + content + "' is neither an added token nor in the vocabulary of tokenizer.json");
    special_ids_[k] = id;
  }
}

int32_t HfTokenizer::token_to_id(std::string_view token) const {
  auto it = added_by_content_.find(token);
  if (it != added_by_content_.end()) return it->second;
  return model_->token_to_id(token);
}

const std::string* HfTokenizer::id_to_token(int32_t id) const {
  auto it = added_by_id_.find(id);
  if (it != added_by_id_.end()) return &added_[it->second].content;
  return model_->id_to_token(id);
}

bool HfTokenizer::is_special(int32_t id) const {
  auto it = added_by_id_.find(id);
  return it != added_by_id_.end() && added_[it->second].special;
}

namespace {
// Per-thread buffers of encode_text, reused across calls.
struct Scratch {
  std::vector<std::string_view> pieces;
  Arena arena;
};
}  // namespace

void HfTokenizer::encode_text(std::string_view text, std::vector<int32_t>& out) const {
  thread_local Scratch scratch;
  scratch.arena.clear();
  pre_tokenizer_->split(text, scratch.pieces, scratch.arena);
  for (std::string_view piece : scratch.pieces) model_->tokenize(piece, out);
}

void HfTokenizer::encode_into(std::string_view input, bool split_special_tokens, std::vector<int32_t>& out) const {
  std::string repaired;
  std::string_view text = input;
  if (!utf8::is_valid(input)) {
    repaired = utf8::repair(input);
    text = repaired;
  }
  std::vector<Segment> raw_segments, normalized_segments;
  if (raw_matcher_.empty()) {
    raw_segments.push_back(Segment{0, text.size(), -1});
  } else {
    raw_matcher_.split(text, split_special_tokens, raw_segments);
  }
  for (const Segment& seg : raw_segments) {
    if (seg.id >= 0) {
      out.push_back(seg.id);
      continue;
    }
    std::string_view part = text.substr(seg.start, seg.end - seg.start);
    if (part.empty()) continue;
    std::string normalized;
    if (normalizer_) {
      normalized = normalizer_->normalize(part);
      part = normalized;
    }
    if (normalized_matcher_.empty()) {
      encode_text(part, out);
      continue;
    }
    normalized_matcher_.split(part, split_special_tokens, normalized_segments);
    for (const Segment& s2 : normalized_segments) {
      if (s2.id >= 0) out.push_back(s2.id);
      else encode_text(part.substr(s2.start, s2.end - s2.start), out);
    }
  }
}

std::string HfTokenizer::canonical_text(std::string_view input) const {
  std::string text = utf8::repair(input);
  if (!normalizer_) return text;
  std::vector<Segment> segments;
  if (raw_matcher_.empty()) segments.push_back(Segment{0, text.size(), -1});
  else raw_matcher_.split(text, false, segments);
  std::string out;
  for (const Segment& seg : segments) {
    std::string_view part = std::string_view(text).substr(seg.start, seg.end - seg.start);
    out += seg.id >= 0 ? std::string(part) : normalizer_->normalize(part);
  }
  return out;
}

std::vector<int32_t> HfTokenizer::encode(std::string_view text, bool split_special_tokens) const {
  std::vector<int32_t> out;
  out.reserve(text.size() / 3 + 8);
  encode_into(text, split_special_tokens, out);
  return out;
}

std::string HfTokenizer::decode(const int32_t* ids, size_t count, bool skip_special_tokens) const {
  std::vector<std::string> tokens;
  tokens.reserve(count);
  for (size_t i = 0; i < count; ++i) {
    const std::string* t = id_to_token(ids[i]);
    if (!t) continue;
    if (skip_special_tokens && is_special(ids[i])) continue;
    tokens.push_back(*t);
  }
  std::string text;
  if (decoder_) {
    decoder_->decode_chain(tokens);
    for (const auto& t : tokens) text += t;
  } else {
    for (size_t i = 0; i < tokens.size(); ++i) {
      if (i) text += ' ';
      text += tokens[i];
    }
  }
  return utf8::repair(text);
}

bool HfTokenizer::streamable() const { return !decoder_ || decoder_->token_bytes("a").has_value(); }

std::optional<std::string> HfTokenizer::token_bytes(int32_t id, bool first) const {
  const std::string* t = id_to_token(id);
  if (!t) return std::string();
  if (!decoder_) return first ? *t : " " + *t;
  return decoder_->token_bytes(*t);
}

}  // namespace hf_bpe
