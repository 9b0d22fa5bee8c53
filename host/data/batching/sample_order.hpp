// Which sample sits at each position of the endless stream of samples: the epochs one after the other, each a
// seeded permutation (cyclic) or the dataset order. A pure function of (seed, epoch, size), the same on every
// standard library: the generator is std::mt19937_64 (fully specified) and the reduction to a range is ours.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <random>
#include <vector>

namespace megaswift::data {

// Uniform in [0, bound), bound >= 1, without modulo bias: draws below 2^64 mod bound are rejected.
uint64_t uniform_below(std::mt19937_64& rng, uint64_t bound);

// 0 .. n-1 shuffled by Fisher-Yates (from the back) on std::mt19937_64(seed).
std::vector<int64_t> seeded_permutation(int64_t n, uint64_t seed);

class SampleOrder {
 public:
  // shuffle: epoch e is seeded_permutation(size, seed + e); otherwise every epoch is 0 .. size-1.
  SampleOrder(int64_t size, uint64_t seed, bool shuffle);
  int64_t size() const { return size_; }
  // The samples at positions [begin, begin + count). Thread-safe.
  std::vector<int64_t> at(int64_t begin, int64_t count) const;

 private:
  std::shared_ptr<const std::vector<int64_t>> epoch_order(int64_t epoch) const;

  int64_t size_;
  uint64_t seed_;
  bool shuffle_;
  // The permutations of the few epochs the prefetch window touches (workers are at most a few global batches
  // ahead, so two adjacent epochs at a time); older ones are dropped.
  mutable std::mutex mu_;
  mutable std::map<int64_t, std::shared_ptr<const std::vector<int64_t>>> cache_;
};

}  // namespace megaswift::data
