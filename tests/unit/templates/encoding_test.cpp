// The host's sample encoder with the real Qwen and Llama 3 tokenizers: where segments are cut,
// BOS/EOS, labels, weights, truncation and bad rows.
#include "real_tokenizers.hpp"
#include "template_plugin.hpp"

#include "host/data/encoder/sample_encoder.hpp"

#include <doctest/doctest.h>
#include <chrono>
#include <nlohmann/json.hpp>

using megaswift::data::EncodeResult;
using megaswift::data::EncoderOptions;
using megaswift::data::EncodeStats;
using megaswift::data::SampleEncoder;
using megaswift::data::TemplateMismatch;
using megaswift::data::TruncationStrategy;
using megaswift::test::make_template;
using megaswift::test::real_tokenizer;
using nlohmann::json;

using megaswift::test::conv;

namespace {

const std::vector<std::string>& varied_conversations() {
  static const std::vector<std::string> rows = {
      conv({{"system", "Be terse.  Use   spaces."}, {"user", "2+2=?"}, {"assistant", "4"}}),
      conv({{"user", "Übersetze: 'naïve café' ☕"}, {"assistant", "Naiv, Café. ✔️"}, {"user", "谢谢！"},
            {"assistant", "不客气。"}}),
      conv({{"user", "def f(x):\n    return x*2\n\nExplain."}, {"assistant", "It doubles x.\n\n- input: 3\n- output: 6"}}),
      conv({{"user", "Literal tokens: <|im_end|> and <|eot_id|> inside text"}, {"assistant", "Noted: <|endoftext|>."}}),
      conv({{"user", "tabs\tand trailing spaces   "}, {"assistant", "1234567890 and 3.14159"}}),
  };
  return rows;
}

}  // namespace

TEST_CASE("runs of equal loss tokenize exactly like the whole rendered text for ordinary conversations") {
  for (const std::string t : {"qwen", "qwen2_5", "qwen3", "llama3"}) {
    const auto& tok = real_tokenizer(t == "llama3" ? "llama3" : "qwen3");
    auto tmpl = make_template(t);
    SampleEncoder encoder(*tmpl, tok, {});
    for (const std::string& row : varied_conversations()) {
      CAPTURE(t);
      CAPTURE(row);
      auto r = encoder.encode(row);
      REQUIRE(r.samples.size() == 1);
      CHECK(r.samples[0].input_ids == tok.encode(tmpl->render(row, R"({"eos_token": ""})").text()));
    }
  }
}

TEST_CASE("an answer that starts with a newline is tokenized apart from its header, as ms-swift does") {
  const auto& tok = real_tokenizer("qwen3");
  auto tmpl = make_template("qwen");
  SampleEncoder encoder(*tmpl, tok, {});
  auto r = encoder.encode(conv({{"user", "Hi"}, {"assistant", "\nHello"}}));
  REQUIRE(r.samples.size() == 1);
  const auto& ids = r.samples[0].input_ids;
  // "...assistant\n" | "\nHello<|im_end|>\n": the two newlines stay two tokens, where tokenizing the
  // whole string merges them; the answer's tokens are the same as when encoded on their own.
  std::string text = tmpl->render(conv({{"user", "Hi"}, {"assistant", "\nHello"}})).text();
  CHECK(ids != tok.encode(text));
  auto answer = tok.encode("\nHello");
  auto header = tok.encode("assistant\n");
  size_t start = ids.size() - 2 - answer.size();
  CHECK(std::vector<int32_t>(ids.begin() + start, ids.end() - 2) == answer);
  CHECK(std::vector<int32_t>(ids.begin() + start - header.size(), ids.begin() + start) == header);
  CHECK(r.samples[0].labels[start] == answer[0]);
  CHECK(r.samples[0].labels[start - 1] == -100);
}

TEST_CASE("the generative template adds the tokenizer's own BOS and EOS and trains on all but the first token") {
  EncoderOptions all;
  all.template_options_json = R"({"loss_scale": "all"})";
  auto gen = make_template("generative");
  {
    const auto& tok = real_tokenizer("llama3");
    SampleEncoder encoder(*gen, tok, all);
    auto r = encoder.encode(R"({"text": "Plain text for pre-training."})");
    REQUIRE(r.samples.size() == 1);
    const auto& s = r.samples[0];
    auto body = tok.encode("Plain text for pre-training.");
    CHECK(s.input_ids.front() == tok.token_to_id("<|begin_of_text|>"));
    CHECK(s.input_ids.back() == tok.token_to_id("<|end_of_text|>"));
    CHECK(std::vector<int32_t>(s.input_ids.begin() + 1, s.input_ids.end() - 1) == body);
    CHECK(s.labels.front() == -100);
    CHECK(std::vector<int32_t>(s.labels.begin() + 1, s.labels.end()) ==
          std::vector<int32_t>(s.input_ids.begin() + 1, s.input_ids.end()));
  }
  {
    // Qwen has no bos_token; this package's eos_token is <|im_end|> (an Instruct tokenizer_config).
    const auto& tok = real_tokenizer("qwen3");
    SampleEncoder encoder(*gen, tok, all);
    auto r = encoder.encode(R"({"text": "Plain text."})");
    auto body = tok.encode("Plain text.");
    body.push_back(tok.token_to_id("<|im_end|>"));
    CHECK(r.samples.at(0).input_ids == body);
  }
}

TEST_CASE("the default template tokenizes as plain text with BOS and a trained EOS") {
  const auto& tok = real_tokenizer("llama3");
  auto tmpl = make_template("default");
  SampleEncoder encoder(*tmpl, tok, {});
  auto r = encoder.encode(conv({{"user", "Hi"}, {"assistant", "Hello"}}));
  const auto& s = r.samples.at(0);
  auto expect = tok.encode("You are a helpful assistant.\n\n### Human:\nHi\n\n### Assistant:\n");
  expect.insert(expect.begin(), tok.token_to_id("<|begin_of_text|>"));
  size_t answer_at = expect.size();
  for (int32_t id : tok.encode("Hello")) expect.push_back(id);
  expect.push_back(tok.special_token_id(MSW_TOKENIZER_EOS));
  CHECK(s.input_ids == expect);
  for (size_t k = 0; k < s.size(); ++k) CHECK(s.labels[k] == (k >= answer_at ? s.input_ids[k] : -100));
}

TEST_CASE("a loss weight other than 1 comes out as per-token loss_scale") {
  const auto& tok = real_tokenizer("qwen3");
  auto tmpl = make_template("qwen");
  SampleEncoder encoder(*tmpl, tok, {});
  json c = json::parse(conv({{"user", "Hi"}, {"assistant", "Hello there"}}));
  c["messages"][1]["loss"] = 2.0;
  auto s = encoder.encode(c.dump()).samples.at(0);
  REQUIRE(s.loss_scale.size() == s.size());
  size_t n2 = 0, n1 = 0;
  for (size_t k = 0; k < s.size(); ++k) {
    if (s.loss_scale[k] == 2.0f) ++n2;
    if (s.loss_scale[k] == 1.0f) ++n1;
    CHECK((s.labels[k] != -100) == (s.loss_scale[k] > 0));
  }
  CHECK(n2 == tok.encode("Hello there").size());
  CHECK(n1 == 2);  // <|im_end|> and "\n" of the turn end
}

TEST_CASE("a template whose special tokens the tokenizer lacks is a configuration error, not a bad row") {
  auto tmpl = make_template("qwen2_5");
  SampleEncoder encoder(*tmpl, real_tokenizer("llama3"), {});
  CHECK_THROWS_AS(encoder.encode(conv({{"user", "Hi"}, {"assistant", "Yo"}})), TemplateMismatch);
}

TEST_CASE("max_length: delete drops and counts the sample, left and right keep one end, split cuts pieces") {
  const auto& tok = real_tokenizer("qwen3");
  auto tmpl = make_template("qwen");
  const std::string row = conv({{"user", "Count: one two three four five six seven"}, {"assistant", "eight nine ten"}});
  auto full = SampleEncoder(*tmpl, tok, {}).encode(row).samples.at(0);
  const size_t n = full.size(), max = 10;
  REQUIRE(n > 2 * max);

  EncoderOptions o;
  o.max_length = max;
  EncodeStats stats;
  auto dropped = SampleEncoder(*tmpl, tok, o).encode(row);
  stats.add(dropped);
  CHECK(dropped.outcome == EncodeResult::Outcome::TooLong);
  CHECK(dropped.samples.empty());
  CHECK(dropped.length == n);
  CHECK(stats.dropped_too_long == 1);

  o.truncation = TruncationStrategy::Left;
  auto left = SampleEncoder(*tmpl, tok, o).encode(row).samples.at(0);
  CHECK(left.input_ids == std::vector<int32_t>(full.input_ids.end() - max, full.input_ids.end()));
  CHECK(left.labels[0] == -100);
  CHECK(std::vector<int32_t>(left.labels.begin() + 1, left.labels.end()) ==
        std::vector<int32_t>(full.labels.end() - max + 1, full.labels.end()));

  o.truncation = TruncationStrategy::Right;
  auto right = SampleEncoder(*tmpl, tok, o).encode(row).samples.at(0);
  CHECK(right.input_ids == std::vector<int32_t>(full.input_ids.begin(), full.input_ids.begin() + max));

  o.truncation = TruncationStrategy::Split;
  auto pieces = SampleEncoder(*tmpl, tok, o).encode(row).samples;
  CHECK(pieces.size() == (n + max - 1) / max);
  std::vector<int32_t> joined;
  for (const auto& p : pieces) {
    CHECK(p.size() <= max);
    CHECK(p.labels[0] == -100);
    joined.insert(joined.end(), p.input_ids.begin(), p.input_ids.end());
  }
  CHECK(joined == full.input_ids);

  // Exactly max_length tokens is not too long.
  o.max_length = n;
  o.truncation = TruncationStrategy::Delete;
  CHECK(SampleEncoder(*tmpl, tok, o).encode(row).outcome == EncodeResult::Outcome::Ok);
}

TEST_CASE("max_length bounds one row by its limit, not its longest field: a huge field is never tokenized whole") {
  const auto& tok = real_tokenizer("qwen3");
  auto tmpl = make_template("qwen");
  const size_t max = 64;
  EncoderOptions o;
  o.max_length = max;
  SampleEncoder probe(*tmpl, tok, o);
  const size_t budget = max * probe.longest_token_bytes() * SampleEncoder::kNormalizerShrink;
  // Words that tokenize one by one, past the budget so the window applies, with different words at both ends.
  std::string field;
  for (size_t i = 0; field.size() < 2 * budget; ++i) field += " w" + std::to_string(i % 997);
  const std::string row = conv({{"user", "Begin " + field + " End"}, {"assistant", "ok"}});
  auto full = SampleEncoder(*tmpl, tok, {}).encode(row).samples.at(0);
  REQUIRE(full.size() > 4 * max);

  o.truncation = TruncationStrategy::Right;
  auto right = SampleEncoder(*tmpl, tok, o).encode(row);
  CHECK(right.samples.at(0).input_ids == std::vector<int32_t>(full.input_ids.begin(), full.input_ids.begin() + max));
  CHECK(right.length > max);  // counted as truncated
  o.truncation = TruncationStrategy::Left;
  auto left = SampleEncoder(*tmpl, tok, o).encode(row);
  CHECK(left.samples.at(0).input_ids == std::vector<int32_t>(full.input_ids.end() - max, full.input_ids.end()));

  // 64 MiB in one field: delete drops it unread, right reads a window; both in well under a second.
  const std::string huge = conv({{"user", std::string(64u << 20, 'a')}, {"assistant", "ok"}});
  const auto start = std::chrono::steady_clock::now();
  o.truncation = TruncationStrategy::Delete;
  CHECK(SampleEncoder(*tmpl, tok, o).encode(huge).outcome == EncodeResult::Outcome::TooLong);
  o.truncation = TruncationStrategy::Right;
  CHECK(SampleEncoder(*tmpl, tok, o).encode(huge).samples.at(0).size() == max);
  CHECK(std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count() < 5.0);
}

TEST_CASE("malformed rows are counted with their reason and never stop the run, and threads keep row order") {
  const auto& tok = real_tokenizer("qwen3");
  auto tmpl = make_template("qwen2_5");
  SampleEncoder encoder(*tmpl, tok, {});
  std::vector<std::string> rows = varied_conversations();
  rows.push_back(R"({"messages": []})");
  rows.push_back(conv({{"user", "only a question"}}));
  rows.push_back("not json");
  EncodeStats stats;
  auto results = encoder.encode_all(rows, 4, &stats);
  REQUIRE(results.size() == rows.size());
  for (size_t i = 0; i < varied_conversations().size(); ++i)
    CHECK(results[i].samples.at(0).input_ids == encoder.encode(rows[i]).samples.at(0).input_ids);
  CHECK(results[rows.size() - 3].outcome == EncodeResult::Outcome::Malformed);
  CHECK(results[rows.size() - 3].error.find("no messages") != std::string::npos);
  CHECK(results[rows.size() - 2].error.find("ends with a user message") != std::string::npos);
  CHECK(stats.rows == rows.size());
  CHECK(stats.malformed == 3);
  CHECK(stats.samples == varied_conversations().size());
  CHECK(stats.summary().find("3 malformed") != std::string::npos);
}

TEST_CASE("a prompt for generation ends with the assistant header's tokens") {
  const auto& tok = real_tokenizer("llama3");
  auto tmpl = make_template("llama3");
  SampleEncoder encoder(*tmpl, tok, {});
  auto ids = encoder.encode_prompt(conv({{"user", "Hi"}}));
  std::vector<int32_t> tail = {tok.token_to_id("<|start_header_id|>")};
  for (int32_t id : tok.encode("assistant")) tail.push_back(id);
  tail.push_back(tok.token_to_id("<|end_header_id|>"));
  for (int32_t id : tok.encode("\n\n")) tail.push_back(id);
  REQUIRE(ids.size() > tail.size());
  CHECK(std::vector<int32_t>(ids.end() - tail.size(), ids.end()) == tail);
  CHECK_THROWS(encoder.encode_prompt(conv({{"user", "Hi"}, {"assistant", "Yo"}})));
}
