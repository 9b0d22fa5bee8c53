// --truncation_strategy on an encoded sample, without a tokenizer.
#include "host/data/encoder/truncation.hpp"

#include <doctest/doctest.h>

#include <stdexcept>

using megaswift::data::EncodedSample;
using megaswift::data::parse_truncation_strategy;
using megaswift::data::truncate;
using megaswift::data::TruncationStrategy;

namespace {

EncodedSample sample(int n) {
  EncodedSample s;
  for (int i = 0; i < n; ++i) {
    s.input_ids.push_back(100 + i);
    s.labels.push_back(i % 2 ? 100 + i : -100);
  }
  return s;
}

}  // namespace

TEST_CASE("truncation strategies keep the right tokens and never train on a piece's first token") {
  CHECK(truncate(sample(5), 5, TruncationStrategy::Delete).size() == 1);
  CHECK(truncate(sample(6), 5, TruncationStrategy::Delete).empty());
  auto left = truncate(sample(6), 4, TruncationStrategy::Left).at(0);
  CHECK(left.input_ids == std::vector<int32_t>{102, 103, 104, 105});
  CHECK(left.labels == std::vector<int32_t>{-100, 103, -100, 105});
  auto right = truncate(sample(6), 4, TruncationStrategy::Right).at(0);
  CHECK(right.input_ids == std::vector<int32_t>{100, 101, 102, 103});
  CHECK(right.labels == std::vector<int32_t>{-100, 101, -100, 103});
  auto pieces = truncate(sample(7), 3, TruncationStrategy::Split);
  REQUIRE(pieces.size() == 3);
  CHECK(pieces[1].input_ids == std::vector<int32_t>{103, 104, 105});
  CHECK(pieces[1].labels == std::vector<int32_t>{-100, -100, 105});
  CHECK(pieces[2].input_ids == std::vector<int32_t>{106});
}

TEST_CASE("per-token loss weights are cut with the tokens") {
  EncodedSample s = sample(4);
  s.loss_scale = {0, 2, 0, 2};
  auto left = truncate(s, 2, TruncationStrategy::Left).at(0);
  CHECK(left.loss_scale == std::vector<float>{0, 2});
  auto right = truncate(s, 2, TruncationStrategy::Right).at(0);
  CHECK(right.loss_scale == std::vector<float>{0, 2});
}

TEST_CASE("truncation_strategy names are checked and the error lists the choices") {
  CHECK(parse_truncation_strategy("delete") == TruncationStrategy::Delete);
  CHECK(parse_truncation_strategy("split") == TruncationStrategy::Split);
  CHECK_THROWS_WITH_AS(parse_truncation_strategy("raise"),
                       "--truncation_strategy 'raise' is not one of delete, left, right, split", std::invalid_argument);
  CHECK_THROWS_AS(truncate(sample(3), 0, TruncationStrategy::Left), std::invalid_argument);
}
