// KV-cache writes and the attention problem over a cache (see kv_cache.hpp).
#include <kernels/cpu/kv_cache.hpp>

#include <algorithm>
#include <cstring>
#include <stdexcept>
#include <string>

namespace megaswift::kernels::cpu {

void kv_cache_validate(const KvCacheRow* rows, int64_t n_rows, int64_t capacity) {
  if (capacity < 0) throw std::invalid_argument("kv cache: negative capacity " + std::to_string(capacity));
  for (int64_t i = 0; i < n_rows; ++i) {
    const KvCacheRow& r = rows[i];
    if (r.cached < 0 || r.count < 0 || r.src_offset < 0)
      throw std::invalid_argument("kv cache: row " + std::to_string(i) + " has a negative length or offset");
    if (r.cached + r.count > capacity)
      throw std::invalid_argument("kv cache: row " + std::to_string(i) + " holds " + std::to_string(r.cached) +
                                  " tokens and gets " + std::to_string(r.count) + " more, past its capacity of " +
                                  std::to_string(capacity) + " tokens");
  }
}

void kv_cache_write(const KvCacheRow* rows, int64_t n_rows, int64_t capacity, int64_t token_elems, const float* src,
                    int64_t src_token_stride, float* cache, int64_t row_stride) {
  kv_cache_validate(rows, n_rows, capacity);
  for (int64_t i = 0; i < n_rows; ++i) {
    float* dst = cache + i * row_stride + rows[i].cached * token_elems;
    const float* from = src + rows[i].src_offset;
    for (int64_t j = 0; j < rows[i].count; ++j)
      std::memcpy(dst + j * token_elems, from + j * src_token_stride, static_cast<size_t>(token_elems) * sizeof(float));
  }
}

AttentionProblem attention_kvcache(const KvCacheRow* rows, int64_t n_rows, int64_t capacity, int64_t q_heads,
                                   int64_t kv_heads, int64_t head_dim, int64_t q_token_stride,
                                   int64_t lse_token_stride, int64_t row_stride) {
  kv_cache_validate(rows, n_rows, capacity);
  if (kv_heads <= 0 || head_dim <= 0 || q_heads % kv_heads != 0)
    throw std::invalid_argument("kv cache attention: " + std::to_string(q_heads) + " query heads over " +
                                std::to_string(kv_heads) + " kv heads of dimension " + std::to_string(head_dim));
  AttentionProblem p;
  p.params.q_heads = q_heads;
  p.params.kv_heads = kv_heads;
  p.params.head_dim = head_dim;
  p.params.q_token_stride = q_token_stride;
  p.params.kv_token_stride = kv_heads * head_dim;
  p.params.lse_token_stride = lse_token_stride;
  const int64_t group = q_heads / kv_heads;
  for (int64_t i = 0; i < n_rows; ++i) {
    AttentionSequence s;
    s.q_offset = rows[i].src_offset * group;
    s.kv_offset = i * row_stride;
    s.lse_offset = s.q_offset / head_dim;
    s.q_len = rows[i].count;
    s.kv_len = rows[i].cached + rows[i].count;
    p.seqs.push_back(s);
  }
  return p;
}

}  // namespace megaswift::kernels::cpu
