// The KV cache of decoding on the GPU (ops.h's attention_kvcache_forward): each row's new keys and values
// appended after its cached tokens, and the attention of a few new queries over a row (flash-decoding: the
// keys of a row split into chunks attended by separate blocks, whose partial softmax states are then merged in
// chunk order). Longer query runs (a prefill into the cache) use attention_forward with AttentionKv::cache.
// The geometry is attention.hpp's with kv = AttentionKv::cache; cache_seqlens and cu_q are read on the device.
#pragma once

#include <kernels/cuda/attention.hpp>
#include <kernels/cuda/launch.hpp>

#include <cstdint>

namespace megaswift::kernels::cuda {

// k_cache/v_cache[row i, positions cached_i + t] = the row's new token t of k_new/v_new (q's layout with kv
// heads), for every new token that fits the capacity. New tokens in `dtype`, caches in `cache_dtype`.
void kv_cache_append(const AttentionGeometry& g, const void* k_new, const void* v_new, Dtype dtype, void* k_cache,
                     void* v_cache, Dtype cache_dtype, Stream stream);

// Queries per sequence up to which attention_decode is the better kernel (beyond: attention_forward).
constexpr int64_t kDecodeMaxQueries = 8;

// The split of each row's keys: `splits` chunks of `chunk` keys; and the floats of scratch attention_decode needs.
struct DecodePlan {
  int64_t splits = 1, chunk = 0, slots = 0, scratch_floats = 0;
};
DecodePlan attention_decode_plan(const AttentionGeometry& g);

// out = attention of each row's new queries over its cache (the new tokens already appended); `scratch` holds
// plan.scratch_floats floats (NULL when 0).
void attention_decode(const AttentionGeometry& g, const DecodePlan& plan, const void* q, const void* k_cache,
                      const void* v_cache, Dtype dtype, Dtype cache_dtype, void* out, float* scratch, Stream stream);

}  // namespace megaswift::kernels::cuda
