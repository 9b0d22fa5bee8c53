#include "host/model/init.hpp"

#include "host/core/status.hpp"

#include <algorithm>
#include <cmath>
#include <string>
#include <thread>
#include <vector>

namespace megaswift::host {
namespace {

uint64_t fnv1a(std::string_view s) {
  uint64_t h = 1469598103934665603ull;
  for (unsigned char c : s) {
    h ^= c;
    h *= 1099511628211ull;
  }
  return h;
}

uint64_t splitmix64(uint64_t x) {
  x += 0x9e3779b97f4a7c15ull;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
  return x ^ (x >> 31);
}

// A uniform in (0, 1]: 53 random bits, never 0 (so the log below is finite).
double uniform(uint64_t key, uint64_t counter) {
  return (static_cast<double>(splitmix64(key ^ splitmix64(counter)) >> 11) + 1.0) * 0x1.0p-53;
}

}  // namespace

void init_parameter(std::string_view name, int32_t rule, double std, uint64_t seed, int64_t first, int64_t count,
                    float* out) {
  switch (rule) {
    case MSW_INIT_ONES:
      for (int64_t i = 0; i < count; ++i) out[i] = 1.0f;
      return;
    case MSW_INIT_ZEROS:
      for (int64_t i = 0; i < count; ++i) out[i] = 0.0f;
      return;
    case MSW_INIT_NORMAL: {
      const uint64_t key = seed ^ fnv1a(name);
      // Element i's value depends only on (seed, name, first + i), so the threads below give the same bits as one
      // thread; they matter for models of billions of parameters (the Box-Muller draw costs ~40 ns an element:
      // a minute for a 1.5B model on one core).
      auto fill = [&](int64_t lo, int64_t hi) {
        constexpr double two_pi = 6.283185307179586476925286766559;
        for (int64_t i = lo; i < hi; ++i) {
          const uint64_t k = static_cast<uint64_t>(first + i);
          const double u1 = uniform(key, 2 * k), u2 = uniform(key, 2 * k + 1);
          out[i] = static_cast<float>(std * std::sqrt(-2.0 * std::log(u1)) * std::cos(two_pi * u2));
        }
      };
      constexpr int64_t kPerThread = int64_t(1) << 20;
      const int64_t threads =
          std::min<int64_t>(std::max(1u, std::thread::hardware_concurrency()), (count + kPerThread - 1) / kPerThread);
      if (threads <= 1) {
        fill(0, count);
        return;
      }
      std::vector<std::thread> pool;
      pool.reserve(static_cast<size_t>(threads - 1));
      const int64_t chunk = (count + threads - 1) / threads;
      for (int64_t t = 1; t < threads; ++t)
        pool.emplace_back(fill, std::min(count, t * chunk), std::min(count, (t + 1) * chunk));
      fill(0, std::min(count, chunk));
      for (auto& th : pool) th.join();
      return;
    }
    default:
      throw HostError(MSW_STATUS_INVALID_ARGUMENT, "parameter " + std::string(name) + ": unknown init rule " +
                                                       std::to_string(rule));
  }
}

}  // namespace megaswift::host
