#include "host/data/batching/sample_order.hpp"

#include <algorithm>
#include <numeric>
#include <stdexcept>
#include <utility>

namespace megaswift::data {
namespace {

constexpr std::size_t kCachedEpochs = 3;

}  // namespace

uint64_t uniform_below(std::mt19937_64& rng, uint64_t bound) {
  if (bound == 0) throw std::invalid_argument("uniform_below: the bound must be at least 1");
  // 2^64 mod bound: the draws below it are the surplus that would make x % bound favour small values.
  const uint64_t threshold = (0 - bound) % bound;
  for (;;) {
    const uint64_t x = rng();
    if (x >= threshold) return x % bound;
  }
}

std::vector<int64_t> seeded_permutation(int64_t n, uint64_t seed) {
  if (n < 0) throw std::invalid_argument("seeded_permutation: negative size");
  std::vector<int64_t> p(static_cast<std::size_t>(n));
  std::iota(p.begin(), p.end(), int64_t{0});
  std::mt19937_64 rng(seed);
  for (int64_t i = n - 1; i > 0; --i) {
    const auto j = static_cast<int64_t>(uniform_below(rng, static_cast<uint64_t>(i) + 1));
    std::swap(p[static_cast<std::size_t>(i)], p[static_cast<std::size_t>(j)]);
  }
  return p;
}

SampleOrder::SampleOrder(int64_t size, uint64_t seed, bool shuffle) : size_(size), seed_(seed), shuffle_(shuffle) {
  if (size <= 0) throw std::invalid_argument("SampleOrder needs at least one sample");
}

std::shared_ptr<const std::vector<int64_t>> SampleOrder::epoch_order(int64_t epoch) const {
  {
    std::lock_guard lock(mu_);
    if (auto it = cache_.find(epoch); it != cache_.end()) return it->second;
  }
  // Computed outside the lock so a long shuffle does not stall workers reading the other cached epoch; two
  // threads may both compute the same epoch, and both results are equal.
  auto order = std::make_shared<const std::vector<int64_t>>(
      seeded_permutation(size_, seed_ + static_cast<uint64_t>(epoch)));
  std::lock_guard lock(mu_);
  auto result = cache_.emplace(epoch, std::move(order)).first->second;
  while (cache_.size() > kCachedEpochs) cache_.erase(cache_.begin());
  return result;
}

std::vector<int64_t> SampleOrder::at(int64_t begin, int64_t count) const {
  if (begin < 0 || count < 0) throw std::invalid_argument("SampleOrder::at: negative position or count");
  std::vector<int64_t> out;
  out.reserve(static_cast<std::size_t>(count));
  int64_t pos = begin;
  const int64_t end = begin + count;
  while (pos < end) {
    const int64_t epoch = pos / size_;
    const int64_t offset = pos % size_;
    const int64_t take = std::min(end - pos, size_ - offset);
    if (shuffle_) {
      const auto order = epoch_order(epoch);
      out.insert(out.end(), order->begin() + offset, order->begin() + offset + take);
    } else {
      for (int64_t i = 0; i < take; ++i) out.push_back(offset + i);
    }
    pos += take;
  }
  return out;
}

}  // namespace megaswift::data
