// SplitTally and the summary's text and JSON, on hand-made encode results.
#include "host/data/pipeline/summary.hpp"

#include <doctest/doctest.h>

#include <string>

using namespace megaswift;
using data::EncodeResult;

namespace {

EncodeResult ok(std::size_t length, std::size_t trained) {
  EncodeResult r;
  data::EncodedSample s;
  s.input_ids.assign(length, 7);
  s.labels.assign(length, -100);
  for (std::size_t i = 0; i < trained; ++i) s.labels[length - 1 - i] = 7;
  r.length = length;
  r.samples.push_back(std::move(s));
  return r;
}

EncodeResult malformed(const std::string& error) {
  EncodeResult r;
  r.outcome = EncodeResult::Outcome::Malformed;
  r.error = error;
  return r;
}

datasets::Row row(std::size_t index) {
  datasets::Row r;
  r.source = "data.jsonl";
  r.index = index;
  return r;
}

}  // namespace

TEST_CASE("the tally counts tokens, label tokens and length statistics of kept samples") {
  data::SplitTally tally("train", 6, false);
  tally.add(row(0), ok(10, 4), 100);
  tally.add(row(1), ok(30, 5), 100);
  tally.add(row(2), ok(20, 6), 100);
  tally.add(row(3), ok(40, 1), 100);
  EncodeResult too_long;
  too_long.outcome = EncodeResult::Outcome::TooLong;
  too_long.length = 150;
  tally.add(row(4), too_long, 100);
  tally.add(row(5), malformed("conversation message 3 has role \"tool\""), 100);
  data::SplitSummary s = tally.summary();
  CHECK(s.rows == 6);
  CHECK(s.rows_encoded == 6);
  CHECK(s.rows_kept == 4);
  CHECK(s.samples == 4);
  CHECK(s.tokens == 100);
  CHECK(s.label_tokens == 16);
  CHECK(s.min_length == 10);
  CHECK(s.max_length == 40);
  CHECK(s.mean_length == doctest::Approx(25.0));
  CHECK(s.median_length == doctest::Approx(25.0));  // (20 + 30) / 2
  CHECK(s.dropped_too_long == 1);
  CHECK(s.too_long.at("longer than --max_length 100").example == "data.jsonl row 4: 150 tokens");
  CHECK(s.dropped() == 2);
  CHECK(s.complete());
}

TEST_CASE("malformed rows are grouped by their reason with numbers taken out, keeping the first example") {
  data::SplitTally tally("val", 3, false);
  tally.add(row(7), malformed("conversation message 3 has role \"tool\""), std::nullopt);
  tally.add(row(9), malformed("conversation message 12 has role \"tool\""), std::nullopt);
  tally.add(row(11), malformed("the conversation is not valid JSON"), std::nullopt);
  data::SplitSummary s = tally.summary();
  REQUIRE(s.malformed.size() == 2);
  const auto& tool = s.malformed.at("conversation message # has role \"tool\"");
  CHECK(tool.count == 2);
  CHECK(tool.example == "data.jsonl row 7: conversation message 3 has role \"tool\"");
  CHECK(s.samples == 0);
  CHECK(s.median_length == 0);
}

TEST_CASE("the median of an odd number of samples is the middle length, and truncation is counted") {
  data::SplitTally tally("train", 3, false);
  tally.add(row(0), ok(5, 1), 8);
  EncodeResult cut = ok(8, 2);
  cut.length = 12;  // 12 tokens before truncation, 8 after
  tally.add(row(1), cut, 8);
  tally.add(row(2), ok(3, 1), 8);
  data::SplitSummary s = tally.summary();
  CHECK(s.median_length == doctest::Approx(5.0));
  CHECK(s.truncated == 1);
  CHECK(s.max_length == 8);
}

TEST_CASE("the text of a lazy split says what is known before training reads it") {
  data::SplitSummary s = data::SplitTally("train", 500, true).summary();
  const std::string text = data::describe(s);
  CHECK(text.find("500 rows") != std::string::npos);
  CHECK(text.find("lazily") != std::string::npos);
  CHECK_FALSE(s.complete());
  nlohmann::json j = data::to_json(s);
  CHECK(j["lazy"] == true);
  CHECK(j["rows"] == 500);
  CHECK(j["rows_encoded"] == 0);
}

TEST_CASE("the text of an eager split names samples, drops, tokens and lengths") {
  data::SplitTally tally("train", 2, false);
  tally.add(row(0), ok(10, 4), 64);
  EncodeResult too_long;
  too_long.outcome = EncodeResult::Outcome::TooLong;
  too_long.length = 70;
  tally.add(row(1), too_long, 64);
  const std::string text = data::describe(tally.summary());
  CHECK(text == "train: 2 rows -> 1 samples, 1 rows dropped (1 too long); 10 tokens, 4 with loss; length max 10, "
                "mean 10.0, median 10.0, min 10");
}
