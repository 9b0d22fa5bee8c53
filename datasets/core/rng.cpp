#include "datasets/core/rng.hpp"

#include <numeric>
#include <stdexcept>

namespace megaswift::datasets {

std::uint64_t derive_seed(std::uint64_t seed, std::uint64_t stream) {
  std::uint64_t z = seed + 0x9E3779B97F4A7C15ULL * (stream + 1);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
  return z ^ (z >> 31);
}

std::uint64_t Rng::below(std::uint64_t n) {
  if (n == 0) throw std::invalid_argument("Rng::below(0)");
  // Values below 2^64 mod n would make small results more likely; draw again (at most 50% of the time).
  const std::uint64_t threshold = (0 - n) % n;
  for (;;) {
    const std::uint64_t x = engine_();
    if (x >= threshold) return x % n;
  }
}

std::vector<std::size_t> Rng::permutation_prefix(std::size_t n, std::size_t k) {
  if (k > n) throw std::invalid_argument("Rng::permutation_prefix: k > n");
  std::vector<std::size_t> p(n);
  std::iota(p.begin(), p.end(), std::size_t{0});
  for (std::size_t i = 0; i < k; ++i) std::swap(p[i], p[i + below(n - i)]);
  p.resize(k);
  return p;
}

}  // namespace megaswift::datasets
