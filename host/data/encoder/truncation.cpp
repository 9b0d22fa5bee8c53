#include "truncation.hpp"

#include <algorithm>
#include <stdexcept>
#include <string>

namespace megaswift::data {
namespace {

EncodedSample slice(const EncodedSample& s, size_t begin, size_t end) {
  EncodedSample out;
  out.input_ids.assign(s.input_ids.begin() + begin, s.input_ids.begin() + end);
  out.labels.assign(s.labels.begin() + begin, s.labels.begin() + end);
  if (!s.loss_scale.empty()) out.loss_scale.assign(s.loss_scale.begin() + begin, s.loss_scale.begin() + end);
  if (!out.labels.empty()) out.labels[0] = -100;
  if (!out.loss_scale.empty()) out.loss_scale[0] = 0;
  return out;
}

}  // namespace

TruncationStrategy parse_truncation_strategy(std::string_view name) {
  if (name == "delete") return TruncationStrategy::Delete;
  if (name == "left") return TruncationStrategy::Left;
  if (name == "right") return TruncationStrategy::Right;
  if (name == "split") return TruncationStrategy::Split;
  throw std::invalid_argument("--truncation_strategy '" + std::string(name) +
                              "' is not one of delete, left, right, split");
}

const char* truncation_strategy_name(TruncationStrategy s) {
  switch (s) {
    case TruncationStrategy::Delete: return "delete";
    case TruncationStrategy::Left: return "left";
    case TruncationStrategy::Right: return "right";
    case TruncationStrategy::Split: return "split";
  }
  return "?";
}

size_t EncodedSample::trained_tokens() const {
  return static_cast<size_t>(std::count_if(labels.begin(), labels.end(), [](int32_t l) { return l != -100; }));
}

std::vector<EncodedSample> truncate(EncodedSample sample, size_t max_length, TruncationStrategy strategy) {
  if (max_length == 0) throw std::invalid_argument("--max_length must be at least 1");
  const size_t n = sample.size();
  if (n <= max_length) return {std::move(sample)};
  switch (strategy) {
    case TruncationStrategy::Delete: return {};
    case TruncationStrategy::Left: return {slice(sample, n - max_length, n)};
    case TruncationStrategy::Right: return {slice(sample, 0, max_length)};
    case TruncationStrategy::Split: {
      std::vector<EncodedSample> pieces;
      for (size_t begin = 0; begin < n; begin += max_length) pieces.push_back(slice(sample, begin, std::min(n, begin + max_length)));
      return pieces;
    }
  }
  return {};
}

}  // namespace megaswift::data
