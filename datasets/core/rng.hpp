// Reproducible randomness for sampling and splitting. std::mt19937_64's output sequence is fixed by the C++
// standard, but std::uniform_int_distribution and std::shuffle are not, so bounded draws and shuffles are written
// here: the same --seed gives the same rows with every compiler and standard library.
#pragma once

#include <cstddef>
#include <cstdint>
#include <random>
#include <utility>
#include <vector>

namespace megaswift::datasets {

// SplitMix64 of (seed, stream): independent seeds for independent uses of one --seed (per dataset, per row).
std::uint64_t derive_seed(std::uint64_t seed, std::uint64_t stream);

class Rng {
 public:
  explicit Rng(std::uint64_t seed) : engine_(seed) {}

  // Uniform in [0, n) by rejection (no modulo bias); n must be > 0.
  std::uint64_t below(std::uint64_t n);

  // Fisher-Yates from the back: for i = n-1 .. 1, swap(v[i], v[below(i + 1)]).
  template <class T>
  void shuffle(std::vector<T>& v) {
    for (std::size_t i = v.size(); i > 1; --i) std::swap(v[i - 1], v[below(i)]);
  }

  // k distinct indices of [0, n) in random order: the first k steps of a front-to-back Fisher-Yates
  // (for i = 0 .. k-1, swap(p[i], p[i + below(n - i)])). k <= n.
  std::vector<std::size_t> permutation_prefix(std::size_t n, std::size_t k);

 private:
  std::mt19937_64 engine_;
};

}  // namespace megaswift::datasets
