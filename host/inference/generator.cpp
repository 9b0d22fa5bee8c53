#include "host/inference/generator.hpp"

#include "host/core/status.hpp"

#include <algorithm>
#include <span>

namespace megaswift::inference {

using host::HostError;

std::vector<Generation> generate(TokenDecoder& decoder, const std::vector<std::vector<int64_t>>& prompts,
                                 const GenerationOptions& options) {
  if (options.max_new_tokens < 1)
    throw HostError(MSW_STATUS_INVALID_ARGUMENT, "max_new_tokens must be at least 1, got " +
                                                     std::to_string(options.max_new_tokens));
  for (size_t r = 0; r < prompts.size(); ++r) {
    const auto n = static_cast<int64_t>(prompts[r].size());
    if (n == 0) throw HostError(MSW_STATUS_INVALID_ARGUMENT, "request " + std::to_string(r) + " has an empty prompt");
    if (n + options.max_new_tokens > decoder.capacity())
      throw HostError(MSW_STATUS_INVALID_ARGUMENT,
                      "request " + std::to_string(r) + ": a prompt of " + std::to_string(n) + " tokens plus " +
                          std::to_string(options.max_new_tokens) + " new tokens needs " +
                          std::to_string(n + options.max_new_tokens) + " positions, but the decoder holds " +
                          std::to_string(decoder.capacity()) + " per row");
  }
  std::vector<Generation> out(prompts.size());
  std::vector<std::vector<int64_t>> context(prompts.size());  // prompt + generated: the repetition penalty's view
  std::vector<Sampler> samplers;
  samplers.reserve(prompts.size());
  for (size_t r = 0; r < prompts.size(); ++r) {
    SamplingOptions s = options.sampling;
    s.seed = options.sampling.seed + r;
    samplers.emplace_back(s);
    out[r].prompt_tokens = static_cast<int64_t>(prompts[r].size());
    context[r] = prompts[r];
  }

  const auto rows = static_cast<size_t>(decoder.rows());
  std::vector<int64_t> request_of(rows, -1);  // the request each row serves, -1 when idle
  size_t next_request = 0;
  for (;;) {
    std::vector<std::vector<int64_t>> step(rows);
    bool any = false;
    for (size_t row = 0; row < rows; ++row) {
      if (request_of[row] < 0 && next_request < prompts.size()) {
        request_of[row] = static_cast<int64_t>(next_request++);
        decoder.clear(static_cast<int64_t>(row));
        step[row] = prompts[static_cast<size_t>(request_of[row])];
      } else if (request_of[row] >= 0) {
        step[row] = {out[static_cast<size_t>(request_of[row])].tokens.back()};
      }
      any = any || !step[row].empty();
    }
    if (!any) break;
    std::vector<std::vector<float>> logits = decoder.append(step);
    for (size_t row = 0; row < rows; ++row) {
      if (request_of[row] < 0) continue;
      const auto r = static_cast<size_t>(request_of[row]);
      const int64_t token = samplers[r].next(std::span<float>(logits[row]), std::span<const int64_t>(context[r]));
      Generation& g = out[r];
      g.tokens.push_back(token);
      context[r].push_back(token);
      if (options.on_token) options.on_token(r, token);
      const bool eos = std::find(options.eos_ids.begin(), options.eos_ids.end(), token) != options.eos_ids.end();
      const bool stopped = eos || (options.stop && options.stop(r, g.tokens));
      const bool full = static_cast<int64_t>(g.tokens.size()) >= options.max_new_tokens;
      if (stopped || full) {
        g.finish_reason = stopped ? "stop" : "length";
        request_of[row] = -1;
      }
    }
  }
  return out;
}

}  // namespace megaswift::inference
