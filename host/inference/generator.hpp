// Generation over a TokenDecoder: prompts in, tokens out, with continuous batching. Each of the decoder's rows
// serves one request at a time; a row whose request finishes takes the next waiting prompt in the same step the
// other rows decode (a packed step mixes one prefill with single-token steps), so a batch never waits for its
// longest answer. Each request has its own sampler seeded from the run's seed and its index, so its tokens do
// not depend on which row or batch it landed in.
#pragma once

#include "host/inference/text/sampling.hpp"
#include "host/inference/token_decoder.hpp"

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

namespace megaswift::inference {

struct GenerationOptions {
  int64_t max_new_tokens = 64;
  SamplingOptions sampling;
  std::vector<int64_t> eos_ids;  // a generated eos ends the answer (it is kept as the last token)
  // Called after each token of request `request` with its tokens so far; true ends the answer (a stop word
  // completed). Optional.
  std::function<bool(size_t request, const std::vector<int64_t>& generated)> stop;
  // Streaming: each token as it is chosen. Optional.
  std::function<void(size_t request, int64_t token)> on_token;
};

struct Generation {
  std::vector<int64_t> tokens;       // generated, including the eos or the stop word's last token
  std::string finish_reason;         // "stop" (eos or stop word) or "length" (max_new_tokens or the cache)
  int64_t prompt_tokens = 0;
};

// Every prompt must be non-empty and, with max_new_tokens, fit the decoder's capacity (HostError naming the
// request and the numbers otherwise).
std::vector<Generation> generate(TokenDecoder& decoder, const std::vector<std::vector<int64_t>>& prompts,
                                 const GenerationOptions& options);

}  // namespace megaswift::inference
