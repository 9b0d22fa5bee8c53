// The benchmarks' fixed batch: `rows` rows of `seq` token ids drawn by xorshift (no dependence on a library's
// generator, so the PyTorch scripts can rebuild the same tokens), labels the next token, the last one ignored.
#pragma once

#include "host/model/model_runner.hpp"

#include <cstdint>
#include <vector>

namespace megaswift::bench {

inline std::vector<host::Batch::Row> random_rows(int64_t rows, int64_t seq, int64_t vocab) {
  std::vector<host::Batch::Row> out(static_cast<size_t>(rows));
  uint64_t x = 88172645463325252ull;
  for (auto& row : out) {
    for (int64_t i = 0; i < seq; ++i) {
      x ^= x << 13;
      x ^= x >> 7;
      x ^= x << 17;
      row.input_ids.push_back(static_cast<int64_t>(x % static_cast<uint64_t>(vocab)));
    }
    row.labels.assign(row.input_ids.begin() + 1, row.input_ids.end());
    row.labels.push_back(-100);
  }
  return out;
}

}  // namespace megaswift::bench
