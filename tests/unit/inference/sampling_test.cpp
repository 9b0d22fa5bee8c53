// host/inference/text/sampling against HF transformers' logit processors (golden rows written by
// tests/fixtures/inference/make_sampling_fixtures.py), and the seeded sampler's behaviour.
#include "host/inference/text/sampling.hpp"

#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <fstream>
#include <limits>
#include <map>
#include <numeric>
#include <random>
#include <set>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace mi = megaswift::inference;

namespace {

constexpr float kNegInf = -std::numeric_limits<float>::infinity();

struct Case {
  std::string name;
  std::vector<float> logits;
  std::vector<int64_t> context;
  double penalty, temperature, top_p;
  int64_t top_k;
  std::map<std::string, std::vector<float>> stages;
  std::vector<float> processed;
  int64_t greedy;

  mi::SamplingOptions options(uint64_t seed = 42) const {
    return {.temperature = temperature, .top_k = top_k, .top_p = top_p, .repetition_penalty = penalty,
            .seed = seed};
  }
};

std::vector<float> read_row(const nlohmann::json& row) {
  std::vector<float> out;
  for (const auto& v : row) out.push_back(v.is_string() ? kNegInf : v.get<float>());
  return out;
}

const nlohmann::json& fixture_json() {
  static const nlohmann::json doc = [] {
    const std::string path = std::string(MSW_SOURCE_DIR) + "/tests/fixtures/inference/sampling_fixtures.json";
    std::ifstream f(path);
    REQUIRE_MESSAGE(f.good(), "missing " << path << " (tests/fixtures/inference/make_sampling_fixtures.py)");
    return nlohmann::json::parse(f);
  }();
  return doc;
}

const std::vector<Case>& cases() {
  static const std::vector<Case> all = [] {
    std::vector<Case> out;
    for (const auto& c : fixture_json().at("cases")) {
      Case x;
      x.name = c.at("name");
      x.logits = read_row(c.at("logits"));
      x.context = c.at("context").get<std::vector<int64_t>>();
      x.penalty = c.at("penalty");
      x.temperature = c.at("temperature");
      x.top_k = c.at("top_k");
      x.top_p = c.at("top_p");
      for (const auto& [stage, row] : c.at("expected_stages").items()) x.stages[stage] = read_row(row);
      x.processed = read_row(c.at("expected_processed"));
      x.greedy = c.at("expected_greedy");
      out.push_back(std::move(x));
    }
    return out;
  }();
  return all;
}

const Case& find_case(const std::string& name) {
  for (const auto& c : cases())
    if (c.name == name) return c;
  FAIL("no fixture case " << name);
  throw;  // unreachable: FAIL throws
}

// -inf exactly where expected, every other value within 1e-6 relative.
void check_row(const std::vector<float>& got, const std::vector<float>& want, const std::string& what) {
  REQUIRE(got.size() == want.size());
  for (size_t i = 0; i < got.size(); ++i) {
    INFO(what << ", token " << i << ": got " << got[i] << ", want " << want[i]);
    CHECK((got[i] == kNegInf) == (want[i] == kNegInf));
    if (want[i] != kNegInf)
      CHECK(std::abs(double(got[i]) - double(want[i])) <= 1e-6 * std::max(std::abs(double(want[i])), 1e-30));
  }
}

std::vector<double> softmax(const std::vector<float>& logits) {
  const double max = *std::max_element(logits.begin(), logits.end());
  std::vector<double> p(logits.size());
  double total = 0;
  for (size_t i = 0; i < p.size(); ++i) total += p[i] = std::exp(double(logits[i]) - max);
  for (double& v : p) v /= total;
  return p;
}

// Generates n tokens as a decode loop would: the context grows with each drawn token (so the penalty moves).
std::vector<int64_t> generate(mi::Sampler& sampler, const Case& c, int n) {
  std::vector<int64_t> context = c.context, out;
  for (int i = 0; i < n; ++i) {
    std::vector<float> row = c.logits;
    out.push_back(sampler.next(row, context));
    context.push_back(out.back());
  }
  return out;
}

}  // namespace

TEST_CASE("the fixture says who produced it and covers the processors") {
  const auto& versions = fixture_json().at("versions");
  MESSAGE("sampling fixture producer: " << versions.at("producer").get<std::string>());
  REQUIRE(cases().size() >= 10);
  int filtered = 0, greedy = 0;
  for (const auto& c : cases()) {
    filtered += std::count(c.processed.begin(), c.processed.end(), kNegInf) > 0;
    greedy += c.temperature == 0;
  }
  CHECK(filtered >= 5);
  CHECK(greedy >= 3);
}

TEST_CASE("each processor matches HF transformers on the golden rows") {
  for (const auto& c : cases()) {
    CAPTURE(c.name);
    std::vector<float> row = c.logits;
    mi::apply_repetition_penalty(row, c.context, c.penalty);
    check_row(row, c.stages.at("repetition_penalty"), c.name + " after the repetition penalty");
    if (c.temperature > 0) {
      mi::apply_temperature(row, c.temperature);
      check_row(row, c.stages.at("temperature"), c.name + " after temperature");
      mi::apply_top_k(row, c.top_k);
      check_row(row, c.stages.at("top_k"), c.name + " after top_k");
      // Feed top_p HF's own top_k output so a difference is attributed to the stage that made it.
      row = c.stages.at("top_k");
      mi::apply_top_p(row, c.top_p);
      check_row(row, c.stages.at("top_p"), c.name + " after top_p");
    }
  }
}

TEST_CASE("the whole chain matches HF, and greedy picks HF's argmax") {
  for (const auto& c : cases()) {
    CAPTURE(c.name);
    std::vector<float> row = c.logits;
    mi::apply_repetition_penalty(row, c.context, c.penalty);
    if (c.temperature > 0) {
      mi::apply_temperature(row, c.temperature);
      mi::apply_top_k(row, c.top_k);
      mi::apply_top_p(row, c.top_p);
    }
    check_row(row, c.processed, c.name + " processed");

    mi::SamplingOptions greedy = c.options();
    greedy.temperature = 0;
    mi::Sampler sampler(greedy);
    std::vector<float> raw = c.logits;
    CHECK(sampler.next(raw, c.context) == c.greedy);
    // The row is left processed: for greedy decoding, only the penalty.
    check_row(raw, c.stages.at("repetition_penalty"), c.name + " left by the greedy sampler");
  }
}

TEST_CASE("the sampler leaves the row processed as HF's warpers would") {
  for (const auto& c : cases()) {
    if (c.temperature == 0) continue;
    CAPTURE(c.name);
    mi::Sampler sampler(c.options());
    std::vector<float> row = c.logits;
    const int64_t token = sampler.next(row, c.context);
    check_row(row, c.processed, c.name + " left by the sampler");
    CHECK(c.processed.at(static_cast<size_t>(token)) != kNegInf);  // never a filtered token
  }
}

TEST_CASE("a seed gives the same tokens every time, another seed other tokens") {
  const Case& c = find_case("masked_input");  // 27 tokens survive: plenty of room for sequences to differ
  mi::Sampler a(c.options(7)), b(c.options(7)), other(c.options(8));
  const auto first = generate(a, c, 200);
  CHECK(first == generate(b, c, 200));
  CHECK(first != generate(other, c, 200));
  // Sampling really varies: a seeded run is not stuck on one token.
  CHECK(std::set<int64_t>(first.begin(), first.end()).size() > 5);
}

TEST_CASE("top_k=1 sampling picks the greedy token") {
  int compared = 0;
  for (const auto& c : cases()) {
    std::vector<float> penalized = c.logits;
    mi::apply_repetition_penalty(penalized, c.context, c.penalty);
    const float max = *std::max_element(penalized.begin(), penalized.end());
    if (std::count(penalized.begin(), penalized.end(), max) != 1) continue;  // tied maxima: top_k keeps them all
    CAPTURE(c.name);
    mi::Sampler sampling({.temperature = 0.7, .top_k = 1, .repetition_penalty = c.penalty, .seed = 3});
    for (int i = 0; i < 20; ++i) {
      std::vector<float> row = c.logits;
      CHECK(sampling.next(row, c.context) == c.greedy);
    }
    ++compared;
  }
  CHECK(compared >= 10);
}

TEST_CASE("draws follow the processed softmax (20000 draws, 3 sigma)") {
  for (const char* name : {"all_processors", "top_k_beyond_vocab"}) {
    const Case& c = find_case(name);
    CAPTURE(c.name);
    const std::vector<double> p = softmax(c.processed);
    mi::Sampler sampler(c.options(1234));
    constexpr int n = 20000;
    std::vector<int> count(p.size(), 0);
    for (int i = 0; i < n; ++i) {
      std::vector<float> row = c.logits;
      ++count.at(static_cast<size_t>(sampler.next(row, c.context)));
    }
    for (size_t t = 0; t < p.size(); ++t) {
      CAPTURE(t);
      CAPTURE(p[t]);
      if (p[t] == 0) {
        CHECK(count[t] == 0);
        continue;
      }
      const double sigma = std::sqrt(n * p[t] * (1 - p[t]));
      CHECK(std::abs(count[t] - n * p[t]) <= 3 * sigma);
    }
  }
}

TEST_CASE("top_p on a large vocabulary agrees with a plain full-sort implementation") {
  // The fixture's 50-token rows never outgrow the first sorted prefix (256 tokens); a flat 5000-token row keeps
  // thousands, so the prefix is extended several times.
  std::mt19937_64 rng(11);
  std::normal_distribution<float> normal(0.0f, 0.3f);
  for (double top_p : {0.3, 0.9, 0.999}) {
    CAPTURE(top_p);
    std::vector<float> row(5000);
    for (float& v : row) v = normal(rng);
    std::vector<float> want = row;
    {  // HF's definition, written out: stable ascending sort, forward cumulative softmax, keep the last.
      std::vector<size_t> order(row.size());
      std::iota(order.begin(), order.end(), size_t{0});
      std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) { return row[a] < row[b]; });
      std::vector<float> sorted;
      for (size_t i : order) sorted.push_back(row[i]);
      const std::vector<double> p = softmax(sorted);
      double cumulative = 0;
      for (size_t r = 0; r + 1 < order.size(); ++r)
        if ((cumulative += p[r]) <= 1 - top_p) want[order[r]] = kNegInf;
    }
    const auto kept = std::count_if(want.begin(), want.end(), [](float v) { return v != kNegInf; });
    CHECK(kept > 256);
    mi::apply_top_p(row, top_p);
    check_row(row, want, "5000-token row");
  }
}

TEST_CASE("top_k keeps every token tied with the k-th value") {
  std::vector<float> row = {1, 3, 2, 3, 3, 0, -1};
  mi::apply_top_k(row, 2);  // the 2nd largest is 3, shared by three tokens
  CHECK(row == std::vector<float>{kNegInf, 3, kNegInf, 3, 3, kNegInf, kNegInf});
  std::vector<float> same = {1, 2, 3};
  mi::apply_top_k(same, 3);  // k >= vocab: untouched
  mi::apply_top_k(same, 0);  // off
  CHECK(same == std::vector<float>{1, 2, 3});
}

TEST_CASE("greedy takes the first of tied maxima") {
  const std::vector<float> row = {0, 5, 2, 5};
  CHECK(mi::greedy_token(row) == 1);
}

TEST_CASE("bad options are refused with the flag, the value and the range") {
  auto make = [](mi::SamplingOptions o) { mi::Sampler s(o); };
  CHECK_THROWS_WITH_AS(make({.temperature = -0.5}),
                       "--temperature must be a number >= 0 (0 means greedy decoding), got -0.5",
                       std::invalid_argument);
  CHECK_THROWS_WITH_AS(make({.temperature = std::nan("")}), doctest::Contains("--temperature"),
                       std::invalid_argument);
  CHECK_THROWS_WITH_AS(make({.top_k = -1}), "--top_k must be >= 0 (0 turns top-k filtering off), got -1",
                       std::invalid_argument);
  CHECK_THROWS_WITH_AS(make({.top_p = 0}), "--top_p must be in (0, 1] (1 turns nucleus filtering off), got 0",
                       std::invalid_argument);
  CHECK_THROWS_WITH_AS(make({.top_p = 1.5}), doctest::Contains("--top_p must be in (0, 1]"), std::invalid_argument);
  CHECK_THROWS_WITH_AS(make({.repetition_penalty = 0}),
                       "--repetition_penalty must be a number > 0 (1 turns it off, > 1 discourages repeats), got 0",
                       std::invalid_argument);
  CHECK_THROWS_WITH_AS(make({.repetition_penalty = -1.2}), doctest::Contains("got -1.2"), std::invalid_argument);
  CHECK_NOTHROW(make({.temperature = 0.7, .top_k = 50, .top_p = 1.0, .repetition_penalty = 1.05}));
}

TEST_CASE("bad rows are refused: NaN logits, context ids outside the vocabulary") {
  mi::Sampler greedy(mi::SamplingOptions{});
  std::vector<float> row = {0.5f, std::nanf(""), 1.0f};
  const std::vector<int64_t> context = {0};
  CHECK_THROWS_WITH_AS(greedy.next(row, context), doctest::Contains("the model produced NaN logits (first at token id 1)"),
                       std::runtime_error);
  mi::Sampler sampling({.temperature = 1.0});
  row = {0.5f, 1.0f, std::nanf("")};
  CHECK_THROWS_WITH_AS(sampling.next(row, context), doctest::Contains("NaN logits"), std::runtime_error);

  std::vector<float> small = {1, 2, 3};
  const std::vector<int64_t> outside = {1, 7};
  CHECK_THROWS_WITH_AS(mi::apply_repetition_penalty(small, outside, 1.2),
                       "repetition penalty: the context holds token id 7 but the logit row covers ids 0..2: the "
                       "tokenizer and the model's vocabulary disagree",
                       std::invalid_argument);
  const std::vector<int64_t> negative = {-1};
  CHECK_THROWS_WITH_AS(mi::apply_repetition_penalty(small, negative, 1.2), doctest::Contains("token id -1"),
                       std::invalid_argument);

  std::vector<float> masked = {kNegInf, kNegInf};
  CHECK_THROWS_WITH_AS(sampling.next(masked, {}), doctest::Contains("every logit is -inf"), std::runtime_error);
}

TEST_CASE("top_p cutting through tied logits removes the lower ids first") {
  // HF leaves this to torch.sort's tie order, which is not specified; Megaswift fixes it as a stable ascending sort
  // would: four equal tokens of probability 0.25 with top_p 0.6 lose the one of cumulative probability 0.25 <= 0.4.
  std::vector<float> row = {1, 1, 1, 1};
  mi::apply_top_p(row, 0.6);
  CHECK(row == std::vector<float>{kNegInf, 1, 1, 1});
}
