#include "host/inference/text/sampling.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

namespace megaswift::inference {
namespace {

constexpr float kNegInf = -std::numeric_limits<float>::infinity();

// Shortest readable form of a double for messages ("0.5", not std::to_string's "0.500000").
std::string show(double v) {
  std::ostringstream s;
  s << v;
  return s.str();
}

std::string nan_message(size_t index) {
  return "the model produced NaN logits (first at token id " + std::to_string(index) +
         "): the weights or the forward pass are broken (an overflow in reduced precision is the usual cause); "
         "check the checkpoint and try a wider --torch_dtype";
}

// Top-p needs the tokens in descending order only until the kept mass reaches top_p, which for real vocabularies
// (150k entries) is a few hundred tokens: sorting that prefix instead of the whole row keeps a decode step cheap.
// Ties are ordered as a stable ascending sort (HF's torch.sort) would leave them read from the top: higher id first.
struct DescendingOrder {
  std::span<const float> logits;
  bool operator()(size_t a, size_t b) const {
    if (logits[a] != logits[b]) return logits[a] > logits[b];
    return a > b;
  }
};

}  // namespace

void validate_sampling_options(const SamplingOptions& o) {
  if (!(std::isfinite(o.temperature) && o.temperature >= 0))
    throw std::invalid_argument("--temperature must be a number >= 0 (0 means greedy decoding), got " +
                                show(o.temperature));
  if (o.top_k < 0)
    throw std::invalid_argument("--top_k must be >= 0 (0 turns top-k filtering off), got " +
                                std::to_string(o.top_k));
  if (!(o.top_p > 0 && o.top_p <= 1))
    throw std::invalid_argument("--top_p must be in (0, 1] (1 turns nucleus filtering off), got " + show(o.top_p));
  if (!(std::isfinite(o.repetition_penalty) && o.repetition_penalty > 0))
    throw std::invalid_argument(
        "--repetition_penalty must be a number > 0 (1 turns it off, > 1 discourages repeats), got " +
        show(o.repetition_penalty));
}

void apply_repetition_penalty(std::span<float> logits, std::span<const int64_t> context, double penalty) {
  if (!(std::isfinite(penalty) && penalty > 0))
    throw std::invalid_argument("repetition penalty must be > 0, got " + show(penalty));
  if (penalty == 1.0) return;  // generate() does not add the processor at 1: nothing to do, nothing to check
  const auto vocab = static_cast<int64_t>(logits.size());
  for (int64_t id : context)
    if (id < 0 || id >= vocab)
      throw std::invalid_argument("repetition penalty: the context holds token id " + std::to_string(id) +
                                  " but the logit row covers ids 0.." + std::to_string(vocab - 1) +
                                  ": the tokenizer and the model's vocabulary disagree");
  // fp32 arithmetic with the penalty rounded to float, as torch does on an fp32 row with a Python scalar.
  const auto p = static_cast<float>(penalty);
  std::vector<bool> done(logits.size(), false);  // each distinct id once, however often it repeats
  for (int64_t id : context) {
    const auto i = static_cast<size_t>(id);
    if (done[i]) continue;
    done[i] = true;
    logits[i] = logits[i] < 0 ? logits[i] * p : logits[i] / p;
  }
}

void apply_temperature(std::span<float> logits, double temperature) {
  if (!(std::isfinite(temperature) && temperature > 0))
    throw std::invalid_argument("temperature for sampling must be > 0, got " + show(temperature) +
                                " (0 means greedy decoding, which applies no temperature)");
  const auto t = static_cast<float>(temperature);
  for (float& l : logits) l /= t;
}

void apply_top_k(std::span<float> logits, int64_t k) {
  if (k <= 0 || k >= static_cast<int64_t>(logits.size())) return;
  std::vector<float> values(logits.begin(), logits.end());
  std::nth_element(values.begin(), values.begin() + (k - 1), values.end(), std::greater<float>());
  const float kth = values[static_cast<size_t>(k - 1)];
  for (float& l : logits)
    if (l < kth) l = kNegInf;
}

void apply_top_p(std::span<float> logits, double top_p) {
  if (!(top_p > 0)) throw std::invalid_argument("top_p must be in (0, 1], got " + show(top_p));
  if (top_p >= 1 || logits.empty()) return;
  const float max = *std::max_element(logits.begin(), logits.end());
  if (max == kNegInf) return;  // nothing left to filter; the sampler reports the empty distribution
  std::vector<double> weight(logits.size());
  double total = 0;
  for (size_t i = 0; i < logits.size(); ++i) total += weight[i] = std::exp(double(logits[i]) - double(max));

  // HF removes a token when the ascending cumulative probability up to and including it is <= 1 - top_p. Read from
  // the top, that cumulative probability is (total - mass strictly above the token) / total; it only falls, so the
  // removed tokens are everything from the first one that meets the condition downwards. The top token always stays.
  const double cut = 1.0 - top_p;
  std::vector<size_t> order(logits.size());
  std::iota(order.begin(), order.end(), size_t{0});
  const DescendingOrder desc{logits};
  size_t sorted = 0;
  double above = 0;
  for (size_t rank = 0; rank < order.size(); ++rank) {
    if (rank == sorted) {  // extend the sorted prefix geometrically
      const size_t upto = std::min(order.size(), std::max<size_t>(2 * sorted, 256));
      std::partial_sort(order.begin() + static_cast<std::ptrdiff_t>(sorted),
                        order.begin() + static_cast<std::ptrdiff_t>(upto), order.end(), desc);
      sorted = upto;
    }
    const size_t token = order[rank];
    if (rank > 0 && (total - above) / total <= cut) {
      for (size_t r = rank; r < order.size(); ++r) logits[order[r]] = kNegInf;
      return;
    }
    above += weight[token];
  }
}

int64_t greedy_token(std::span<const float> logits) {
  if (logits.empty()) throw std::invalid_argument("greedy decoding: the logit row is empty");
  size_t best = 0;
  for (size_t i = 0; i < logits.size(); ++i) {
    if (std::isnan(logits[i])) throw std::runtime_error(nan_message(i));
    if (logits[i] > logits[best]) best = i;  // strict: the first index of the maximum wins, as torch.argmax
  }
  return static_cast<int64_t>(best);
}

Sampler::Sampler(const SamplingOptions& options) : options_(options), rng_(options.seed) {
  validate_sampling_options(options_);
}

int64_t Sampler::next(std::span<float> logits, std::span<const int64_t> context) {
  if (logits.empty()) throw std::invalid_argument("sampling: the logit row is empty");
  for (size_t i = 0; i < logits.size(); ++i)
    if (std::isnan(logits[i])) throw std::runtime_error(nan_message(i));

  apply_repetition_penalty(logits, context, options_.repetition_penalty);
  if (options_.greedy()) return greedy_token(logits);
  apply_temperature(logits, options_.temperature);
  apply_top_k(logits, options_.top_k);
  apply_top_p(logits, options_.top_p);

  const float max = *std::max_element(logits.begin(), logits.end());
  if (max == kNegInf)
    throw std::runtime_error("sampling: every logit is -inf, so no token can be drawn (the model masked the "
                             "whole vocabulary)");
  if (std::isinf(max))
    throw std::runtime_error("sampling: a logit is +inf after dividing by --temperature " +
                             show(options_.temperature) + "; the distribution is undefined, raise --temperature");
  // Softmax in double, unnormalized: the draw scales a uniform number by the total instead.
  std::vector<double> weight(logits.size());
  double total = 0;
  for (size_t i = 0; i < logits.size(); ++i) total += weight[i] = std::exp(double(logits[i]) - double(max));
  // 53 random bits -> [0, 1), spelled out (not std::uniform_real_distribution, whose algorithm differs between
  // standard libraries) so a seed gives the same tokens on every build.
  const double u = static_cast<double>(rng_() >> 11) * 0x1.0p-53;
  const double target = u * total;
  double cumulative = 0;
  size_t last_possible = 0;
  for (size_t i = 0; i < weight.size(); ++i) {
    if (weight[i] == 0) continue;  // filtered tokens can never be drawn
    cumulative += weight[i];
    last_possible = i;
    if (cumulative > target) return static_cast<int64_t>(i);
  }
  return static_cast<int64_t>(last_possible);  // rounding left target at the very top of the total
}

}  // namespace megaswift::inference
