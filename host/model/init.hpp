// Deterministic initialisation of parameters for training from scratch (--seed).
//
// Element k (row-major, in the parameter's GLOBAL shape) of the parameter named N is
//     std * sqrt(-2 ln u1) * cos(2 pi u2),  (u1, u2) = the uniforms (0, 1] of counters 2k and 2k+1
// of a SplitMix64 stream keyed by seed XOR FNV-1a-64(N). A value depends only on (seed, name, k): not on the
// order parameters are created in, the thread count, or how tensor/pipeline parallelism shards the tensor,
// so every layout initialises the same model. (Megatron draws from torch's generator instead, so the values
// differ from Megatron's for the same seed; the distribution is the same.)
#pragma once

#include <megaswift/c/model.h>

#include <cstdint>
#include <string_view>

namespace megaswift::host {

// Fills `count` values starting at global element `first` of parameter `name` per `rule`.
void init_parameter(std::string_view name, int32_t rule, double std, uint64_t seed, int64_t first, int64_t count,
                    float* out);

}  // namespace megaswift::host
