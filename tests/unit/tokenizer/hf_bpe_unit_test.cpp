// hf_bpe's pipeline on small hand-written tokenizer.json files: UTF-8 repair, BPE merge order,
// added-token rules, normalization, errors, and stream decoding.
#include "stream_decoder.hpp"
#include "tiny_tokenizer.hpp"
#include "utf8.hpp"

#include <doctest/doctest.h>

#include <unistd.h>

using tiny::Json;
using Ids = std::vector<int32_t>;

TEST_CASE("invalid UTF-8 becomes one U+FFFD per maximal subpart, like from_utf8_lossy and TextDecoder") {
  const std::string R = "\xEF\xBF\xBD";
  CHECK(hf_bpe::utf8::repair("abc\xE4\xB8\xAD") == "abc\xE4\xB8\xAD");
  CHECK(hf_bpe::utf8::repair("\xE4\xB8x") == R + "x");            // truncated 3-byte sequence: one
  CHECK(hf_bpe::utf8::repair("\xED\xA0\x80") == R + R + R);        // surrogate: ED is not followed by A0
  CHECK(hf_bpe::utf8::repair("\xC0\xAF") == R + R);                // overlong lead byte
  CHECK(hf_bpe::utf8::repair("\xF0\x9F\x98") == R);                // cut at the end
  CHECK(hf_bpe::utf8::repair("\xF4\x90\x80\x80") == R + R + R + R);  // above U+10FFFF
  CHECK(hf_bpe::utf8::repair("\x80\xFF") == R + R);
}

TEST_CASE("complete_prefix holds back only a character that may still complete") {
  CHECK(hf_bpe::utf8::complete_prefix("ab\xE4\xB8") == 2);
  CHECK(hf_bpe::utf8::complete_prefix("ab\xE4\xB8\xAD") == 5);
  CHECK(hf_bpe::utf8::complete_prefix("ab\xE4x") == 4);   // can never complete: not held back
  CHECK(hf_bpe::utf8::complete_prefix("\xF0\x9F") == 0);
}

TEST_CASE("BPE applies the lowest-ranked merge first, then the leftmost") {
  // ranks: 0 "b c", 1 "a b", 2 "a bc". "abc" must merge b+c first, then a+bc.
  auto tok = tiny::load(tiny::tokenizer_json(tiny::byte_level_model({{"b", "c"}, {"a", "b"}, {"a", "bc"}})));
  int32_t bc = tok->token_to_id("bc"), abc = tok->token_to_id("abc"), ab = tok->token_to_id("ab");
  REQUIRE(bc >= 256);
  CHECK(tok->encode("abc", false) == Ids{abc});
  CHECK(tok->encode("abab", false) == Ids{ab, ab});
  CHECK(tok->encode("abcab", false) == Ids{abc, ab});
  CHECK(tok->decode(Ids{abc, ab}.data(), 2, false) == "abcab");
}

TEST_CASE("ignore_merges takes a word that is in the vocabulary as one token") {
  // "abc" is in the vocabulary (through "ab c"), but the rank of "b c" would split it as a + bc.
  auto model = tiny::byte_level_model({{"b", "c"}, {"a", "b"}, {"ab", "c"}});
  auto without = tiny::load(tiny::tokenizer_json(model));
  model["ignore_merges"] = true;
  auto with = tiny::load(tiny::tokenizer_json(model));
  int32_t abc = with->token_to_id("abc");
  CHECK(without->encode("abc", false) == Ids{'a', without->token_to_id("bc")});
  CHECK(with->encode("abc", false) == Ids{abc});
}

TEST_CASE("special tokens are found before BPE, and split_special_tokens tokenizes them as text") {
  Json added = Json::array({tiny::added_token(300, "<|im_end|>", true), tiny::added_token(301, "<think>", false)});
  auto tok = tiny::load(tiny::tokenizer_json(tiny::byte_level_model({}), added));
  CHECK(tok->encode("a<|im_end|>b", false) == Ids{'a', 300, 'b'});
  // The longest match wins and matching is not nested in words.
  CHECK(tok->encode("x<think><|im_end|>", false) == Ids{'x', 301, 300});
  // split_special_tokens: the special token is text, the non-special added token still matches.
  Ids split = tok->encode("<|im_end|><think>", true);
  Ids expected = tiny::bytes_of("<|im_end|>");
  expected.push_back(301);
  CHECK(split == expected);
  CHECK(tok->is_special(300));
  CHECK_FALSE(tok->is_special(301));
  Ids all{'a', 300, 301};
  CHECK(tok->decode(all.data(), all.size(), false) == "a<|im_end|><think>");
  CHECK(tok->decode(all.data(), all.size(), true) == "a<think>");
}

TEST_CASE("added tokens honour lstrip, rstrip and single_word as HF tokenizers does") {
  Json added = Json::array({tiny::added_token(300, "<mask>", false, true, true, false),
                            tiny::added_token(301, "ony", false, false, false, true)});
  auto tok = tiny::load(tiny::tokenizer_json(tiny::byte_level_model({}), added));
  // lstrip/rstrip swallow the whitespace on both sides (including a tab and U+2000).
  CHECK(tok->encode("a \t<mask>\xE2\x80\x80 b", false) == Ids{'a', 300, 'b'});
  // single_word: "ony" inside "Anthony" is not a match, on its own it is.
  CHECK(tok->encode("Anthony", false) == tiny::bytes_of("Anthony"));
  CHECK(tok->encode("an ony.", false) == Ids{'a', 'n', ' ', 301, '.'});
}

TEST_CASE("NFC composes combining characters before BPE, but not across an added token") {
  Json added = Json::array({tiny::added_token(300, "<s>", true)});
  auto tok = tiny::load(tiny::tokenizer_json(tiny::byte_level_model({{"\xC3", "\xA9"}}), added));
  int32_t e_acute = tok->token_to_id(hf_bpe::byte_level::to_mapped("\xC3\xA9"));
  REQUIRE(e_acute >= 256);
  CHECK(tok->encode("e\xCC\x81", false) == Ids{e_acute});  // e + U+0301 -> U+00E9
  Ids across = tok->encode("e<s>\xCC\x81", false);          // the mark stays alone after <s>
  CHECK(across == Ids{'e', 300, 0xCC, 0x81});
}

TEST_CASE("invalid UTF-8 input is tokenized as its repaired text") {
  auto tok = tiny::load(tiny::tokenizer_json(tiny::byte_level_model({})));
  Ids ids = tok->encode("a\xFF" "b", false);
  CHECK(ids == tiny::bytes_of("a\xEF\xBF\xBD" "b"));
  CHECK(tok->decode(ids.data(), ids.size(), false) == "a\xEF\xBF\xBD" "b");
}

TEST_CASE("byte_fallback spells characters missing from the vocabulary as <0xXX> tokens") {
  Json vocab = {{"<unk>", 0}, {"a", 1}, {"b", 2}, {"ab", 3}};
  for (int b = 0; b < 256; ++b) {
    char name[8];
    std::snprintf(name, sizeof(name), "<0x%02X>", b);
    vocab[name] = 4 + b;
  }
  Json model = {{"type", "BPE"}, {"unk_token", "<unk>"}, {"byte_fallback", true}, {"fuse_unk", true},
                {"vocab", vocab}, {"merges", Json::array({"a b"})}};
  Json decoder = Json::parse(R"({"type": "Sequence", "decoders": [{"type": "ByteFallback"}, {"type": "Fuse"}]})");
  auto tok = tiny::load(tiny::tokenizer_json(model, Json::array(), nullptr, nullptr, decoder));
  Ids ids = tok->encode("ab\xC3\xA9", false);
  CHECK(ids == Ids{3, 4 + 0xC3, 4 + 0xA9});
  CHECK(tok->decode(ids.data(), ids.size(), false) == "ab\xC3\xA9");
  Ids lone{4 + 0xC3, 1};  // an invalid byte group decodes to one U+FFFD per byte, as HF
  CHECK(tok->decode(lone.data(), lone.size(), false) == "\xEF\xBF\xBD" "a");
}

TEST_CASE("special token ids come from tokenizer_config.json, as strings or objects") {
  Json added = Json::array({tiny::added_token(300, "<|endoftext|>", true), tiny::added_token(301, "<|im_end|>", true)});
  Json config = {{"eos_token", "<|im_end|>"}, {"pad_token", {{"content", "<|endoftext|>"}}}, {"bos_token", nullptr}};
  auto tok = tiny::load(tiny::tokenizer_json(tiny::byte_level_model({}), added), config);
  CHECK(tok->special_id(hf_bpe::Special::kEos) == 301);
  CHECK(tok->special_id(hf_bpe::Special::kPad) == 300);
  CHECK(tok->special_id(hf_bpe::Special::kBos) == -1);
  CHECK(tok->vocab_size() == 302);
}

TEST_CASE("a malformed tokenizer.json names the file and the field") {
  Json model = tiny::byte_level_model({{"a", "b"}});
  model["merges"].push_back("x");
  std::string message;
  try {
    tiny::load(tiny::tokenizer_json(model));
  } catch (const std::exception& e) {
    message = e.what();
  }
  CHECK(message.find("tokenizer") != std::string::npos);
  CHECK(message.find(".json") != std::string::npos);
  CHECK(message.find("model.merges[1]") != std::string::npos);

  Json bad_pre = tiny::tokenizer_json(tiny::byte_level_model({}));
  bad_pre["pre_tokenizer"]["pretokenizers"][0]["pattern"]["Regex"] = "(unclosed";
  try {
    tiny::load(bad_pre);
    FAIL("a bad regex must be refused");
  } catch (const std::exception& e) {
    CHECK(std::string(e.what()).find("pre_tokenizer.pretokenizers[0].pattern") != std::string::npos);
  }

  Json unknown = tiny::tokenizer_json(tiny::byte_level_model({}));
  unknown["normalizer"] = {{"type", "BertNormalizer"}};
  CHECK_THROWS_WITH_AS(tiny::load(unknown), doctest::Contains("normalizer.type"), std::exception);
}

TEST_CASE("a missing tokenizer.json names the path") {
  CHECK_THROWS_WITH_AS(hf_bpe::HfTokenizer(hf_bpe::TokenizerFiles::from_config(R"({"model_dir": "/nonexistent/m"})")),
                       doctest::Contains("/nonexistent/m/tokenizer.json"), std::exception);
  CHECK_THROWS_WITH_AS(hf_bpe::TokenizerFiles::from_config("{}"), doctest::Contains("model_dir"), std::exception);
}

TEST_CASE("the stream decoder never emits part of a UTF-8 character and ends like decode") {
  auto tok = tiny::load(tiny::tokenizer_json(tiny::byte_level_model({})));
  hf_bpe::StreamDecoder stream(*tok, false);
  // "é中" as single bytes: nothing until each character is whole.
  CHECK(stream.step(0xC3).empty());
  CHECK(stream.step(0xA9) == "\xC3\xA9");
  CHECK(stream.step(0xE4).empty());
  CHECK(stream.step(0xB8).empty());
  CHECK(stream.step(0xAD) == "\xE4\xB8\xAD");
  // A sequence that can never complete comes out as U+FFFD at once; a dangling one at flush.
  CHECK(stream.step(0xE4).empty());
  CHECK(stream.step('x') == "\xEF\xBF\xBDx");
  CHECK(stream.step(0xF0).empty());
  CHECK(stream.flush() == "\xEF\xBF\xBD");
  Ids ids{0xF0};
  CHECK(tok->decode(ids.data(), ids.size(), false) == "\xEF\xBF\xBD");
}

TEST_CASE("the regex rewrite gives \\s Unicode White_Space: U+0085 is whitespace, U+180E is not") {
  // Oniguruma (HF tokenizers) uses White_Space; PCRE2's own \s would also take U+180E.
  std::string p = hf_bpe::Regex::with_unicode_white_space("\\s+|[^\\s\\p{L}]+");
  CHECK(p.find("\\s") == std::string::npos);
  hf_bpe::Regex re(p, "test");
  std::vector<std::pair<size_t, size_t>> found;
  re.find_all("a\xC2\x85\xE1\xA0\x8E", found);  // a, U+0085, U+180E
  REQUIRE(found.size() == 2);
  CHECK(found[0] == std::pair<size_t, size_t>{1, 3});  // U+0085 alone: the whitespace run
  CHECK(found[1] == std::pair<size_t, size_t>{3, 6});  // U+180E: not whitespace, not a letter
}
