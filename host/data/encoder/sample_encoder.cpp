#include "host/data/encoder/sample_encoder.hpp"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <exception>
#include <limits>
#include <mutex>
#include <sstream>
#include <thread>

namespace megaswift::data {
namespace {

using nlohmann::json;

json options_object(const std::string& text) {
  json o = json::parse(text.empty() ? "{}" : text, nullptr, /*allow_exceptions=*/false);
  if (o.is_discarded() || !o.is_object())
    throw std::invalid_argument("encoder: template options must be a JSON object, got: " + text);
  return o;
}

// The most text bytes one token can stand for: its vocabulary spelling, which is never shorter than the bytes it
// covers (byte-level and metaspace spellings only lengthen them). At least 1, so a budget is never zero.
size_t longest_spelling(const sdk::TokenizerHandle& tokenizer) {
  size_t longest = 1;
  std::string text;
  for (int32_t id = 0, n = tokenizer.vocab_size(); id < n; ++id)
    if (tokenizer.id_to_token(id, text)) longest = std::max(longest, text.size());
  return longest;
}

// Cuts at most 3 bytes so the cut does not split a UTF-8 sequence: from the front keeps whole characters at the
// start, from the back at the end.
size_t utf8_prefix_length(std::string_view s, size_t n) {
  while (n > 0 && n < s.size() && (static_cast<unsigned char>(s[n]) & 0xC0) == 0x80) --n;
  return n;
}
size_t utf8_suffix_start(std::string_view s, size_t start) {
  while (start < s.size() && (static_cast<unsigned char>(s[start]) & 0xC0) == 0x80) ++start;
  return start;
}

void update_max(std::atomic<size_t>& max, size_t value) {
  size_t cur = max.load();
  while (value > cur && !max.compare_exchange_weak(cur, value)) {
  }
}

}  // namespace

void SampleEncoder::keep_window(std::vector<Piece>& parts, size_t budget, bool from_front) {
  size_t left = budget;
  if (from_front) {
    for (size_t i = 0; i < parts.size(); ++i) {
      Piece& p = parts[i];
      if (p.text.size() < left) {
        left -= p.text.size();
        continue;
      }
      p.text = p.text.substr(0, utf8_prefix_length(p.text, left));
      parts.resize(i + 1);
      return;
    }
    return;
  }
  for (size_t i = parts.size(); i-- > 0;) {
    Piece& p = parts[i];
    if (p.text.size() < left) {
      left -= p.text.size();
      continue;
    }
    p.text = p.text.substr(utf8_suffix_start(p.text, p.text.size() - left));
    parts.erase(parts.begin(), parts.begin() + static_cast<std::ptrdiff_t>(i));
    return;
  }
}

void EncodeStats::add(const EncodeResult& r) {
  ++rows;
  switch (r.outcome) {
    case EncodeResult::Outcome::Malformed: ++malformed; return;
    case EncodeResult::Outcome::TooLong: ++dropped_too_long; return;
    case EncodeResult::Outcome::Ok: break;
  }
  if (r.samples.size() != 1 || r.samples.front().size() != r.length) ++truncated;
  for (const auto& s : r.samples) {
    ++samples;
    tokens += s.size();
    update_max(max_length, s.size());
  }
}

std::string EncodeStats::summary() const {
  std::ostringstream out;
  size_t n = samples.load();
  out << rows.load() << " rows -> " << n << " samples, " << tokens.load() << " tokens";
  if (n) out << " (mean length " << tokens.load() / n << ", max " << max_length.load() << ")";
  out << "; dropped: " << dropped_too_long.load() << " longer than --max_length, " << malformed.load()
      << " malformed; " << truncated.load() << " truncated";
  return out.str();
}

SampleEncoder::SampleEncoder(const sdk::TemplateHandle& tmpl, const sdk::TokenizerHandle& tokenizer,
                             EncoderOptions options)
    : template_(tmpl), tokenizer_(tokenizer), options_(std::move(options)) {
  if (options_.max_length && *options_.max_length == 0) throw std::invalid_argument("--max_length must be at least 1");
  eos_id_ = tokenizer_.special_token_id(MSW_TOKENIZER_EOS);
  int32_t bos = tokenizer_.special_token_id(MSW_TOKENIZER_BOS);
  if (options_.add_bos.value_or(bos >= 0)) {
    if (bos < 0) throw TemplateMismatch("add_bos is set but the tokenizer has no bos_token");
    bos_id_ = bos;
  }

  if (options_.max_length && options_.truncation != TruncationStrategy::Split)
    longest_token_bytes_ = longest_spelling(tokenizer_);

  json train = options_object(options_.template_options_json);
  std::string eos_text;
  if (eos_id_ >= 0 && tokenizer_.id_to_token(eos_id_, eos_text) && !train.contains("eos_token"))
    train["eos_token"] = eos_text;
  train["add_generation_prompt"] = false;
  json prompt = train;
  prompt["add_generation_prompt"] = true;
  train_options_ = train.dump();
  prompt_options_ = prompt.dump();
}

int32_t SampleEncoder::special_id(std::string_view text) const {
  int32_t id = tokenizer_.token_to_id(text);
  if (id < 0)
    throw TemplateMismatch("the template uses the special token '" + std::string(text) +
                           "', which this tokenizer does not have: pick the --template that matches the model");
  return id;
}

std::vector<SampleEncoder::Piece> SampleEncoder::pieces(const sdk::RenderedTemplate& rendered) const {
  std::vector<Piece> out;
  const auto& segs = rendered.segments();
  for (size_t i = 0; i < segs.size();) {
    const msw_template_segment& s = segs[i];
    switch (s.kind) {
      case MSW_TEMPLATE_SEGMENT_TEXT: {
        // One run: adjacent TEXT segments with the same loss weight, tokenized together.
        size_t end = i + 1;
        while (end < segs.size() && segs[end].kind == MSW_TEMPLATE_SEGMENT_TEXT &&
               segs[end].loss_weight == s.loss_weight)
          ++end;
        std::string_view run(rendered.text().data() + s.text_offset,
                             segs[end - 1].text_offset + segs[end - 1].text_size - s.text_offset);
        out.push_back({run, -1, s.loss_weight});
        i = end;
        continue;
      }
      case MSW_TEMPLATE_SEGMENT_SPECIAL: out.push_back({{}, special_id(rendered.segment_text(s)), s.loss_weight}); break;
      case MSW_TEMPLATE_SEGMENT_BOS:
        if (bos_id_) out.push_back({{}, *bos_id_, s.loss_weight});
        break;
      case MSW_TEMPLATE_SEGMENT_EOS:
        if (eos_id_ < 0) throw TemplateMismatch("the template ends answers with the EOS token, but the tokenizer has no eos_token");
        out.push_back({{}, eos_id_, s.loss_weight});
        break;
      default:
        throw TemplateMismatch("the template plugin returned a segment of unknown kind " + std::to_string(s.kind));
    }
    ++i;
  }
  return out;
}

EncodedSample SampleEncoder::tokenize(const std::vector<Piece>& pieces) const {
  EncodedSample out;
  bool weighted = false;
  for (const Piece& p : pieces) {
    std::vector<int32_t> ids = p.id >= 0 ? std::vector<int32_t>{p.id} : tokenizer_.encode(p.text);
    for (int32_t id : ids) {
      out.input_ids.push_back(id);
      out.labels.push_back(p.weight > 0 ? id : -100);
      out.loss_scale.push_back(p.weight);
    }
    if (!ids.empty() && p.weight != 0 && p.weight != 1) weighted = true;
  }
  if (!weighted) out.loss_scale.clear();
  // Nothing predicts the first token, so it never carries loss (ms-swift sets labels[0] = -100).
  if (!out.labels.empty()) out.labels[0] = -100;
  if (!out.loss_scale.empty()) out.loss_scale[0] = 0;
  return out;
}

EncodedSample SampleEncoder::tokenize(const sdk::RenderedTemplate& rendered) const { return tokenize(pieces(rendered)); }

size_t SampleEncoder::longest_token_bytes() const {
  return longest_token_bytes_ ? longest_token_bytes_ : longest_spelling(tokenizer_);
}

size_t SampleEncoder::text_budget_bytes() const {
  const size_t per_token = longest_token_bytes_ * kNormalizerShrink;
  const size_t limit = *options_.max_length;
  return limit > std::numeric_limits<size_t>::max() / per_token ? std::numeric_limits<size_t>::max() : limit * per_token;
}

EncodeResult SampleEncoder::encode(const std::string& conversation_json) const {
  EncodeResult result;
  thread_local sdk::RenderedTemplate rendered;
  try {
    template_.render(conversation_json, train_options_, rendered);
  } catch (const sdk::Error& e) {
    if (e.code() != MSW_STATUS_INVALID_ARGUMENT && e.code() != MSW_STATUS_UNSUPPORTED) throw;
    result.outcome = EncodeResult::Outcome::Malformed;
    result.error = e.what();
    return result;
  }
  std::vector<Piece> parts = pieces(rendered);
  if (options_.max_length && options_.truncation != TruncationStrategy::Split) {
    // A row with more text than max_length tokens can cover is never tokenized whole: delete drops it unread,
    // left/right tokenize only the window of text their kept tokens can come from. This bounds the memory and time
    // of one row by --max_length, not by the size of its longest field.
    const size_t budget = text_budget_bytes();
    size_t text_bytes = 0;
    for (const Piece& p : parts) text_bytes += p.text.size();
    if (text_bytes > budget) {
      if (options_.truncation == TruncationStrategy::Delete) {
        result.outcome = EncodeResult::Outcome::TooLong;
        result.length = text_bytes / (longest_token_bytes_ * kNormalizerShrink);  // a lower bound: never tokenized
        return result;
      }
      keep_window(parts, budget, options_.truncation == TruncationStrategy::Right);
    }
  }
  EncodedSample sample = tokenize(parts);
  result.length = sample.size();
  if (!options_.max_length || sample.size() <= *options_.max_length) {
    result.samples.push_back(std::move(sample));
    return result;
  }
  result.samples = truncate(std::move(sample), *options_.max_length, options_.truncation);
  if (result.samples.empty()) result.outcome = EncodeResult::Outcome::TooLong;
  return result;
}

std::vector<int32_t> SampleEncoder::encode_prompt(const std::string& conversation_json) const {
  thread_local sdk::RenderedTemplate rendered;
  template_.render(conversation_json, prompt_options_, rendered);
  return tokenize(rendered).input_ids;
}

std::vector<EncodeResult> SampleEncoder::encode_all(const std::vector<std::string>& rows, int num_threads,
                                                    EncodeStats* stats) const {
  std::vector<EncodeResult> out(rows.size());
  std::atomic<size_t> next{0};
  std::atomic<bool> failed{false};
  std::exception_ptr error;
  std::mutex error_mu;
  auto work = [&] {
    for (size_t i = next++; i < rows.size() && !failed; i = next++) {
      try {
        out[i] = encode(rows[i]);
        if (stats) stats->add(out[i]);
      } catch (...) {
        std::lock_guard lock(error_mu);
        if (!failed.exchange(true)) error = std::current_exception();
      }
    }
  };
  size_t workers = std::min<size_t>(rows.size(), static_cast<size_t>(std::max(1, num_threads)));
  std::vector<std::thread> threads;
  for (size_t t = 1; t < workers; ++t) threads.emplace_back(work);
  work();
  for (auto& t : threads) t.join();
  if (error) std::rethrow_exception(error);
  return out;
}

}  // namespace megaswift::data
