#include "datasets/core/sampling.hpp"

#include "datasets/core/error.hpp"

#include <algorithm>
#include <cmath>
#include <numeric>

namespace megaswift::datasets {

void check_sample_count(std::size_t size, std::size_t n, std::string_view dataset) {
  if (size == 0 || n / size < kMaxSampleCopies || (n / size == kMaxSampleCopies && n % size == 0)) return;
  throw DatasetError("dataset '" + std::string(dataset) + "': '#" + std::to_string(n) + "' asks for " +
                     std::to_string(n) + " rows from " + std::to_string(size) + " usable rows, more than " +
                     std::to_string(kMaxSampleCopies) + " copies of each (the limit keeps the rows in memory " +
                     "bounded); use at most #" + std::to_string(size * kMaxSampleCopies) +
                     ", or --num_train_epochs to go over the data more often");
}

std::vector<std::size_t> sample_indices(std::size_t size, std::size_t n, Rng& rng, bool shuffle, std::string_view dataset) {
  if (n == 0) return {};
  if (size == 0)
    throw DatasetError("cannot take " + std::to_string(n) + " rows from dataset '" + std::string(dataset) +
                       "': it has no usable rows");
  check_sample_count(size, n, dataset);
  std::vector<std::size_t> out;
  out.reserve(n);
  for (std::size_t copy = 0; copy < n / size; ++copy)
    for (std::size_t i = 0; i < size; ++i) out.push_back(i);
  const std::size_t remainder = n % size;
  if (remainder == 0) return out;
  if (shuffle) {
    const std::vector<std::size_t> picked = rng.permutation_prefix(size, remainder);
    out.insert(out.end(), picked.begin(), picked.end());
  } else {
    for (std::size_t i = 0; i < remainder; ++i) out.push_back(i);
  }
  return out;
}

SplitIndices split_indices(std::size_t size, std::optional<std::size_t> n, double ratio, Rng& rng, bool shuffle,
                           std::string_view dataset) {
  if (!(ratio >= 0.0 && ratio <= 1.0))
    throw DatasetError("split_dataset_ratio must be between 0 and 1, got " + std::to_string(ratio));
  const std::size_t wanted = n.value_or(size);
  check_sample_count(size, wanted, dataset);  // before any allocation, with the N the user wrote
  SplitIndices split;
  if (ratio == 0.0) {
    split.train = sample_indices(size, wanted, rng, shuffle, dataset);
    return split;
  }
  if (ratio == 1.0) {
    split.val = sample_indices(size, wanted, rng, shuffle, dataset);
    return split;
  }
  if (size == 0) return split;  // nothing to split; the caller reports the empty dataset
  const std::size_t base = std::min(size, wanted);
  const std::size_t val_count = std::max<std::size_t>(static_cast<std::size_t>(std::floor(base * ratio)), 1);
  if (val_count >= wanted || val_count >= size)
    throw DatasetError("dataset '" + std::string(dataset) + "' has " + std::to_string(size) + " rows" +
                       (n ? " (#" + std::to_string(*n) + ")" : std::string()) + ": split_dataset_ratio " +
                       std::to_string(ratio) + " would leave no training rows; lower the ratio or use --val_dataset");

  std::vector<std::size_t> order;
  if (shuffle) {
    order = rng.permutation_prefix(size, size);
  } else {
    // Unshuffled, the held-out rows are the last ones, as Hugging Face's train_test_split(shuffle=False) does.
    order.resize(size);
    std::iota(order.begin(), order.end(), std::size_t{0});
    std::rotate(order.begin(), order.end() - static_cast<std::ptrdiff_t>(val_count), order.end());
  }
  split.val.assign(order.begin(), order.begin() + static_cast<std::ptrdiff_t>(val_count));
  const std::vector<std::size_t> rest(order.begin() + static_cast<std::ptrdiff_t>(val_count), order.end());
  for (std::size_t i : sample_indices(rest.size(), wanted - val_count, rng, shuffle, dataset)) split.train.push_back(rest[i]);
  return split;
}

}  // namespace megaswift::datasets
