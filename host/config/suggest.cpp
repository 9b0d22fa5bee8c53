#include "host/config/suggest.hpp"

#include <algorithm>
#include <tuple>

namespace megaswift::config {

std::size_t edit_distance(std::string_view a, std::string_view b) {
  const std::size_t n = a.size(), m = b.size();
  std::vector<std::vector<std::size_t>> d(n + 1, std::vector<std::size_t>(m + 1));
  for (std::size_t i = 0; i <= n; ++i) d[i][0] = i;
  for (std::size_t j = 0; j <= m; ++j) d[0][j] = j;
  for (std::size_t i = 1; i <= n; ++i) {
    for (std::size_t j = 1; j <= m; ++j) {
      const std::size_t cost = a[i - 1] == b[j - 1] ? 0 : 1;
      d[i][j] = std::min({d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + cost});
      if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1]) d[i][j] = std::min(d[i][j], d[i - 2][j - 2] + 1);
    }
  }
  return d[n][m];
}

std::string closest(std::string_view word, const std::vector<std::string>& candidates) {
  const std::string* best = nullptr;
  std::tuple<std::size_t, std::size_t, std::string_view> best_key;
  for (const auto& candidate : candidates) {
    auto key = std::make_tuple(edit_distance(word, candidate), candidate.size(), std::string_view(candidate));
    if (!best || key < best_key) {
      best = &candidate;
      best_key = key;
    }
  }
  return best ? *best : std::string();
}

}  // namespace megaswift::config
