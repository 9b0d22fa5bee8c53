#include "host/data/batching/packing.hpp"

#include "host/data/batching/train_rows.hpp"
#include "host/data/pipeline/error.hpp"

#include <algorithm>
#include <atomic>
#include <exception>
#include <mutex>
#include <stdexcept>
#include <string>
#include <thread>

namespace megaswift::data {
namespace {

constexpr int64_t kUntrainable = -1;
constexpr std::size_t kChunk = 256;

// Shifted length of every sample, kUntrainable for those that cannot train.
std::vector<int64_t> scan_lengths(const EncodedDataset& dataset, int num_threads) {
  const std::size_t n = dataset.size();
  std::vector<int64_t> lengths(n);
  auto measure = [](const EncodedSample& s) { return trainable(s) ? shifted_length(s) : kUntrainable; };
  // Eager samples are read in place: get() would copy every sample just to measure it.
  if (const auto* eager = dynamic_cast<const EagerDataset*>(&dataset)) {
    for (std::size_t i = 0; i < n; ++i) lengths[i] = measure(eager->samples()[i]);
    return lengths;
  }
  std::atomic<std::size_t> next{0};
  std::atomic<bool> failed{false};
  std::exception_ptr error;
  std::mutex error_mu;
  auto work = [&] {
    for (std::size_t begin = next.fetch_add(kChunk); begin < n && !failed; begin = next.fetch_add(kChunk)) {
      try {
        for (std::size_t i = begin; i < std::min(n, begin + kChunk); ++i) lengths[i] = measure(dataset.get(i));
      } catch (...) {
        std::lock_guard lock(error_mu);
        if (!failed.exchange(true)) error = std::current_exception();
        return;
      }
    }
  };
  const std::size_t workers =
      std::min<std::size_t>((n + kChunk - 1) / kChunk, static_cast<std::size_t>(std::max(1, num_threads)));
  std::vector<std::thread> threads;
  for (std::size_t t = 1; t < workers; ++t) threads.emplace_back(work);
  work();
  for (auto& t : threads) t.join();
  if (error) std::rethrow_exception(error);
  return lengths;
}

}  // namespace

PackedRows pack_first_fit_decreasing(std::vector<std::pair<int64_t, int64_t>> items, int64_t capacity) {
  if (capacity < 1) throw std::invalid_argument("packing needs a row capacity of at least 1 token");
  for (const auto& [index, length] : items)
    if (length < 1 || length > capacity)
      throw std::invalid_argument("packing: sample " + std::to_string(index) + " has length " +
                                  std::to_string(length) + ", outside [1, " + std::to_string(capacity) + "]");
  std::stable_sort(items.begin(), items.end(), [](const auto& a, const auto& b) {
    return a.second != b.second ? a.second > b.second : a.first < b.first;
  });

  // A max-tree over the room left in rows 0 .. n-1 (rows not opened yet have full room), so the earliest row
  // with room for a length is found in O(log n): first-fit on all samples in O(n log n).
  std::size_t leaves = 1;
  while (leaves < std::max<std::size_t>(items.size(), 1)) leaves *= 2;
  std::vector<int64_t> room(2 * leaves, -1);
  for (std::size_t i = 0; i < items.size(); ++i) room[leaves + i] = capacity;
  for (std::size_t node = leaves - 1; node >= 1; --node) room[node] = std::max(room[2 * node], room[2 * node + 1]);

  std::vector<std::vector<int64_t>> rows;
  for (const auto& [index, length] : items) {
    std::size_t node = 1;
    while (node < leaves) node = room[2 * node] >= length ? 2 * node : 2 * node + 1;
    const std::size_t row = node - leaves;
    if (row >= rows.size()) rows.resize(row + 1);
    rows[row].push_back(index);
    room[node] -= length;
    for (node /= 2; node >= 1; node /= 2) room[node] = std::max(room[2 * node], room[2 * node + 1]);
  }

  PackedRows out;
  out.members.reserve(items.size());
  out.starts.reserve(rows.size() + 1);
  for (const auto& r : rows) {
    out.members.insert(out.members.end(), r.begin(), r.end());
    out.starts.push_back(static_cast<int64_t>(out.members.size()));
  }
  return out;
}

PackingPlan plan_packing(const EncodedDataset& dataset, int64_t max_length, int num_threads) {
  if (max_length < 1)
    throw std::invalid_argument("--packing needs --max_length (the row size), at least 1; got " +
                                std::to_string(max_length));
  const std::vector<int64_t> lengths = scan_lengths(dataset, num_threads);
  PackingPlan plan;
  std::vector<std::pair<int64_t, int64_t>> items;
  items.reserve(lengths.size());
  for (std::size_t i = 0; i < lengths.size(); ++i) {
    if (lengths[i] == kUntrainable) {
      ++plan.skipped;
      continue;
    }
    if (lengths[i] > max_length)
      throw DataPipelineError("--packing: sample " + std::to_string(i) + " has " + std::to_string(lengths[i] + 1) +
                              " tokens, but a row of --max_length " + std::to_string(max_length) +
                              " holds samples of at most " + std::to_string(max_length + 1) +
                              " tokens (the shift drops one); tokenize with the same --max_length so longer "
                              "samples are truncated or dropped, or raise --max_length");
    items.emplace_back(static_cast<int64_t>(i), lengths[i]);
    plan.tokens += lengths[i];
  }
  if (items.empty())
    throw DataPipelineError("--packing: none of the " + std::to_string(lengths.size()) +
                            " samples can train (each has fewer than 2 tokens or no token with a label); check the "
                            "dataset and --loss_scale / the template's loss settings");
  plan.rows = pack_first_fit_decreasing(std::move(items), max_length);
  return plan;
}

}  // namespace megaswift::data
