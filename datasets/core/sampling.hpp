// '#N' sampling and the train/validation split, with ms-swift's semantics (swift/llm/dataset/utils.py
// sample_dataset and DatasetLoader.post_process), on row indices so callers pick rows from any container.
#pragma once

#include "datasets/core/rng.hpp"

#include <cstddef>
#include <optional>
#include <string_view>
#include <vector>

namespace megaswift::datasets {

// '#N' may repeat a dataset at most this many times over (N <= rows x kMaxSampleCopies): the selected rows are
// copies held in memory, so a typo such as #100000000000 must fail with a message, not grow until bad_alloc.
inline constexpr std::size_t kMaxSampleCopies = 1000;

// Throws DatasetError naming `dataset`, N, the rows and the largest N allowed when n > size x kMaxSampleCopies.
void check_sample_count(std::size_t size, std::size_t n, std::string_view dataset);

// `#N` on a dataset of `size` rows: floor(N / size) copies of the whole set in file order, then N % size distinct
// rows drawn at random (the first N % size rows when `shuffle` is false, i.e. --dataset_shuffle false).
// So N < size samples without replacement. size 0 with N > 0, or N beyond check_sample_count's bound, throws
// DatasetError naming `dataset`.
std::vector<std::size_t> sample_indices(std::size_t size, std::size_t n, Rng& rng, bool shuffle, std::string_view dataset);

struct SplitIndices {
  std::vector<std::size_t> train;
  std::vector<std::size_t> val;
};

// --split_dataset_ratio r on one dataset of `size` rows with optional '#N' (N defaults to size):
//   r == 0: train = sample_indices(size, N), no val.
//   r == 1: val = sample_indices(size, N), no train.
//   else  : val_count = max(floor(min(size, N) * r), 1) rows are held out first: the first val_count of a seeded
//           permutation (the last val_count rows when shuffle is false); train = sample_indices over the remaining
//           rows for N - val_count rows. Throws DatasetError when no train row would remain.
SplitIndices split_indices(std::size_t size, std::optional<std::size_t> n, double ratio, Rng& rng, bool shuffle,
                           std::string_view dataset);

template <class T>
std::vector<T> select(const std::vector<T>& items, const std::vector<std::size_t>& indices) {
  std::vector<T> out;
  out.reserve(indices.size());
  for (std::size_t i : indices) out.push_back(items[i]);
  return out;
}

}  // namespace megaswift::datasets
