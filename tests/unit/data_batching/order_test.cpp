#include "host/data/batching/sample_order.hpp"

#include <doctest/doctest.h>

#include <algorithm>
#include <numeric>

using namespace megaswift::data;

TEST_CASE("the seeded permutation equals an independent MT19937-64 Fisher-Yates (reference_order.py)") {
  // Printed by tests/unit/data_batching/reference_order.py, which implements the generator from its paper.
  CHECK(seeded_permutation(10, 42) == std::vector<int64_t>{1, 7, 9, 0, 3, 8, 4, 2, 5, 6});
  CHECK(seeded_permutation(10, 43) == std::vector<int64_t>{2, 4, 3, 8, 1, 7, 5, 9, 0, 6});
  CHECK(seeded_permutation(17, 7) ==
        std::vector<int64_t>{16, 12, 11, 13, 5, 9, 6, 4, 14, 8, 1, 0, 10, 15, 3, 2, 7});
  CHECK(seeded_permutation(1, 42) == std::vector<int64_t>{0});
}

TEST_CASE("a seeded permutation holds every index once and changes with the seed") {
  auto p = seeded_permutation(1000, 5);
  CHECK(p == seeded_permutation(1000, 5));
  CHECK(p != seeded_permutation(1000, 6));
  std::sort(p.begin(), p.end());
  std::vector<int64_t> all(1000);
  std::iota(all.begin(), all.end(), int64_t{0});
  CHECK(p == all);
}

TEST_CASE("uniform_below stays in range and reaches every value of a small range") {
  std::mt19937_64 rng(1);
  std::vector<int> seen(7, 0);
  for (int i = 0; i < 7000; ++i) {
    const uint64_t x = uniform_below(rng, 7);
    REQUIRE(x < 7);
    ++seen[x];
  }
  for (int count : seen) CHECK(count > 800);  // ~1000 each
  CHECK(uniform_below(rng, 1) == 0);
  const uint64_t huge = (uint64_t{1} << 63) + 12345;  // half the draws are rejected for this bound
  for (int i = 0; i < 100; ++i) CHECK(uniform_below(rng, huge) < huge);
}

TEST_CASE("the stream is the epochs' permutations seeded by seed + epoch, one after the other") {
  const SampleOrder order(10, 42, /*shuffle=*/true);
  std::vector<int64_t> expected = seeded_permutation(10, 42);
  const auto second = seeded_permutation(10, 43);
  const auto third = seeded_permutation(10, 44);
  expected.insert(expected.end(), second.begin(), second.end());
  expected.insert(expected.end(), third.begin(), third.end());
  CHECK(order.at(0, 30) == expected);
  // Any window reads the same positions, whichever epochs were looked at before.
  CHECK(order.at(27, 3) == std::vector<int64_t>(expected.begin() + 27, expected.end()));
  CHECK(order.at(7, 6) == std::vector<int64_t>(expected.begin() + 7, expected.begin() + 13));
}

TEST_CASE("without shuffling every epoch is the dataset order") {
  const SampleOrder order(4, 42, /*shuffle=*/false);
  CHECK(order.at(2, 7) == std::vector<int64_t>{2, 3, 0, 1, 2, 3, 0});
}
