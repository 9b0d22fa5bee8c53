#include "datasets/core/error.hpp"
#include "datasets/core/loader.hpp"
#include "datasets/core/sampling.hpp"
#include "temp_dir.hpp"

#include <doctest/doctest.h>

#include <algorithm>
#include <set>

using namespace megaswift::datasets;

namespace {

std::vector<std::size_t> sample(std::size_t size, std::size_t n, std::uint64_t seed, bool shuffle = true) {
  Rng rng(seed);
  return sample_indices(size, n, rng, shuffle, "test");
}

std::size_t count(const std::vector<std::size_t>& v, std::size_t x) {
  return static_cast<std::size_t>(std::count(v.begin(), v.end(), x));
}

}  // namespace

TEST_CASE("the RNG is the documented mt19937_64 with our own bounded draw") {
  // std::mt19937_64 seeded with 5489 yields 14514284786278117030 first (the standard's own check value is the
  // 10000th output); below() maps it by modulo when no rejection is needed.
  Rng rng(5489);
  CHECK(rng.below(1000) == 14514284786278117030ULL % 1000);
  CHECK(derive_seed(1, 0) != derive_seed(1, 1));
  CHECK(derive_seed(1, 0) != derive_seed(2, 0));
}

TEST_CASE("#N below the size samples N distinct rows") {
  const auto idx = sample(100, 30, 42);
  CHECK(idx.size() == 30);
  CHECK(std::set<std::size_t>(idx.begin(), idx.end()).size() == 30);
  CHECK(*std::max_element(idx.begin(), idx.end()) < 100);
}

TEST_CASE("#N above the size repeats the whole set floor(N/size) times, then samples the rest without replacement") {
  const auto idx = sample(10, 37, 7);
  REQUIRE(idx.size() == 37);
  for (std::size_t i = 0; i < 30; ++i) CHECK(idx[i] == i % 10);  // three full copies in file order
  const std::vector<std::size_t> rest(idx.begin() + 30, idx.end());
  CHECK(std::set<std::size_t>(rest.begin(), rest.end()).size() == 7);
  for (std::size_t x = 0; x < 10; ++x) CHECK((count(idx, x) == 3 || count(idx, x) == 4));
}

TEST_CASE("#N equal to the size is every row once, in order") {
  const auto idx = sample(5, 5, 1);
  CHECK(idx == std::vector<std::size_t>{0, 1, 2, 3, 4});
}

TEST_CASE("sampling is deterministic for a seed and differs between seeds") {
  CHECK(sample(1000, 50, 42) == sample(1000, 50, 42));
  CHECK(sample(1000, 50, 42) != sample(1000, 50, 43));
  CHECK(sample(10, 25, 42) == sample(10, 25, 42));
  CHECK(sample(10, 25, 42) != sample(10, 25, 1234));
}

TEST_CASE("without shuffling the remainder is the first rows") {
  CHECK(sample(4, 6, 42, false) == std::vector<std::size_t>{0, 1, 2, 3, 0, 1});
}

TEST_CASE("sampling from an empty dataset is an error naming it") {
  Rng rng(1);
  CHECK_THROWS_WITH_AS(sample_indices(0, 3, rng, true, "empty-set"),
                       doctest::Contains("'empty-set'"), DatasetError);
}

TEST_CASE("split_dataset_ratio holds out max(floor(n*r),1) rows and keeps train and val disjoint") {
  Rng rng(3);
  const SplitIndices s = split_indices(100, std::nullopt, 0.1, rng, true, "d");
  CHECK(s.val.size() == 10);
  CHECK(s.train.size() == 90);
  std::set<std::size_t> all(s.train.begin(), s.train.end());
  all.insert(s.val.begin(), s.val.end());
  CHECK(all.size() == 100);

  Rng rng2(3);
  const SplitIndices tiny = split_indices(20, std::nullopt, 0.01, rng2, true, "d");
  CHECK(tiny.val.size() == 1);
  CHECK(tiny.train.size() == 19);
}

TEST_CASE("split with #N takes val from min(size,N) and fills train to N - val") {
  Rng rng(9);
  const SplitIndices s = split_indices(50, 200, 0.1, rng, true, "d");
  CHECK(s.val.size() == 5);
  CHECK(s.train.size() == 195);
  const std::set<std::size_t> val(s.val.begin(), s.val.end());
  for (std::size_t i : s.train) CHECK(val.count(i) == 0);
}

TEST_CASE("unshuffled split holds out the last rows") {
  Rng rng(0);
  const SplitIndices s = split_indices(10, std::nullopt, 0.2, rng, false, "d");
  CHECK(s.val == std::vector<std::size_t>{8, 9});
  CHECK(s.train == std::vector<std::size_t>{0, 1, 2, 3, 4, 5, 6, 7});
}

TEST_CASE("a split that leaves no training rows is an error") {
  Rng rng(0);
  CHECK_THROWS_WITH_AS(split_indices(1, std::nullopt, 0.5, rng, true, "one-row"),
                       doctest::Contains("would leave no training rows"), DatasetError);
  CHECK_THROWS_AS(split_indices(10, std::nullopt, 1.5, rng, true, "d"), DatasetError);
}

TEST_CASE("load_train_val applies #N per dataset, splits, and takes --val_dataset whole") {
  test::TempDir dir;
  std::string a, b;
  for (int i = 0; i < 20; ++i) a += "{\"query\": \"a" + std::to_string(i) + "\", \"response\": \"x\"}\n";
  for (int i = 0; i < 5; ++i) b += "{\"query\": \"b" + std::to_string(i) + "\", \"response\": \"y\"}\n";
  const std::string fa = dir.write("a.jsonl", a).string();
  const std::string fb = dir.write("b.jsonl", b).string();
  LoadOptions options;

  const TrainValRows split = load_train_val({fa + "#10", fb + "#12"}, {}, 0.2, options);
  CHECK(split.val.size() == 2 + 1);     // floor(10*0.2) + max(floor(5*0.2),1)
  CHECK(split.train.size() == 8 + 11);  // 10-2 + 12-1
  CHECK(split.reports.at(1).train_rows == 11);

  const TrainValRows again = load_train_val({fa + "#10", fb + "#12"}, {}, 0.2, options);
  CHECK(to_json(again.train.front()) == to_json(split.train.front()));

  const TrainValRows with_val = load_train_val({fa}, {fb + "#3"}, 0.5, options);
  CHECK(with_val.train.size() == 20);
  CHECK(with_val.val.size() == 3);
}
