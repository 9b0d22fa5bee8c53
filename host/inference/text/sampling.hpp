// Next-token choice for `swift infer`: the logit processors HF transformers' generate() applies, in its order, on
// one fp32 logit row, and a seeded sampler on top of them. The processors match transformers exactly
// (tests/fixtures/inference/sampling_fixtures.json); the random draw does not reproduce torch's RNG stream, only
// its distribution: the same seed gives the same tokens within Megaswift.
#pragma once

#include <cstdint>
#include <random>
#include <span>

namespace megaswift::inference {

struct SamplingOptions {
  double temperature = 0;         // 0: greedy decoding (ms-swift's do_sample=False); > 0: sampling
  int64_t top_k = 0;              // 0: off
  double top_p = 1.0;             // 1: off
  double repetition_penalty = 1.0;  // 1: off
  uint64_t seed = 42;
  bool greedy() const { return temperature <= 0; }
};

// Throws std::invalid_argument naming the flag (--temperature, --top_k, --top_p, --repetition_penalty), the value
// and the accepted range. Sampler's constructor calls it; a front end may call it earlier, when it parses.
void validate_sampling_options(const SamplingOptions& options);

// Each function below works in place on one row of logits covering the real vocabulary (no padding columns).

// For every distinct id in context (prompt and tokens generated so far), once: a negative logit is multiplied by
// penalty, another is divided by it, so penalty > 1 makes repeats less likely. 1 leaves the row unchanged. An id
// outside [0, logits.size()) throws, naming the id.
void apply_repetition_penalty(std::span<float> logits, std::span<const int64_t> context, double penalty);

// logits / temperature (temperature > 0).
void apply_temperature(std::span<float> logits, double temperature);

// Sets to -inf every logit strictly below the k-th largest, so tokens tied with the k-th are all kept. k <= 0 or
// k >= logits.size() leaves the row unchanged.
void apply_top_k(std::span<float> logits, int64_t k);

// Nucleus filtering: with the tokens sorted by ascending logit, removes (-inf) those whose cumulative softmax
// probability is <= 1 - top_p, and always keeps the largest. top_p >= 1 leaves the row unchanged.
void apply_top_p(std::span<float> logits, double top_p);

// The first index of the largest logit (torch.argmax). Throws on an empty row or a NaN logit.
int64_t greedy_token(std::span<const float> logits);

class Sampler {
 public:
  // Throws as validate_sampling_options does.
  explicit Sampler(const SamplingOptions& options);

  // The next token for one logit row, which is modified in place (left processed). Greedy: repetition penalty, then
  // argmax. Sampling: repetition penalty, temperature, top_k, top_p, then one draw from the softmax (in double).
  // context is the whole sequence so far (prompt + generated). Throws when the model produced NaN logits.
  int64_t next(std::span<float> logits, std::span<const int64_t> context);

  const SamplingOptions& options() const { return options_; }

 private:
  SamplingOptions options_;
  std::mt19937_64 rng_;
};

}  // namespace megaswift::inference
