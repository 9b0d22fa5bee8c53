// attention_kvcache_forward: append the new keys and values of each cache row, then attend its new queries
// over everything the row holds (ops.h). The CPU backend reads cache_seqlens and cu_seqlens_q on the host
// to build the kernel problem; the caches are updated in place.
#include "host/ops/shared_checks.hpp"
#include "host/ops/cpu_ops.hpp"
#include "host/ops/cu_seqlens.hpp"
#include "host/ops/tensor_args.hpp"

#include "kernels/cpu/attention.hpp"
#include "kernels/cpu/kv_cache.hpp"

#include <algorithm>
#include <cmath>
#include <string>
#include <vector>

namespace megaswift::host::ops::cpu_impl {

namespace kern = megaswift::kernels::cpu;

namespace {

// cache_seqlens: I32 (N), each within [0, capacity].
std::vector<int64_t> read_cache_seqlens(Ctx ctx, const msw_tensor* t, int64_t rows, int64_t capacity) {
  if (!t) fail(MSW_STATUS_INVALID_ARGUMENT, "cache_seqlens is absent (I32 (N): the tokens each cache row holds)");
  require(t, "cache_seqlens", ctx.device, false);
  if (t->dtype != MSW_DTYPE_I32 || t->ndim != 1 || t->shape[0] != rows)
    fail(MSW_STATUS_SHAPE_MISMATCH, "cache_seqlens is " + describe(*t) + ", expected i32 (" + std::to_string(rows) +
                                        ") = one length per cache row");
  const auto* p = reinterpret_cast<const int32_t*>(static_cast<const char*>(t->data) + t->byte_offset);
  std::vector<int64_t> lens(static_cast<size_t>(rows));
  for (int64_t i = 0; i < rows; ++i) {
    const int64_t n = p[i * t->strides[0]];
    if (n < 0 || n > capacity)
      fail(MSW_STATUS_INVALID_ARGUMENT, "cache_seqlens[" + std::to_string(i) + "] = " + std::to_string(n) +
                                            " is outside [0, " + std::to_string(capacity) + "], the cache's capacity");
    lens[static_cast<size_t>(i)] = n;
  }
  return lens;
}

// A cache (N, C, Hkv, D): float32 (updated in place), each row dense; rows may be further apart (a plugin
// may keep a row's keys and values together). Returns the row stride in elements.
int64_t cache_row_stride(const msw_tensor& t, const char* name) {
  const int64_t c = t.shape[1], h = t.shape[2], d = t.shape[3];
  const bool rows_dense = t.strides[3] == 1 && t.strides[2] == d && t.strides[1] == h * d;
  if (t.dtype != MSW_DTYPE_F32 || !rows_dense || (t.shape[0] > 1 && t.strides[0] < c * h * d))
    fail(MSW_STATUS_UNSUPPORTED, std::string(name) + " is " + describe(t) +
                                     ": the CPU backend updates a KV cache in place, so it must be float32 with dense "
                                     "rows (strides (>= C*H*D, H*D, D, 1))");
  return t.shape[0] > 1 ? t.strides[0] : c * h * d;
}

}  // namespace

void attention_kvcache_forward(Ctx ctx, const msw_attention_kvcache_args& a) {
  if (a.layout != MSW_ATTN_SBHD && a.layout != MSW_ATTN_THD)
    fail(MSW_STATUS_INVALID_ARGUMENT, "unknown layout " + std::to_string(a.layout) + " (0 SBHD, 1 THD)");
  if (a.window_left < 0)
    fail(MSW_STATUS_INVALID_ARGUMENT, "window_left " + std::to_string(a.window_left) + " is negative (0: no window)");
  if (!(a.softcap >= 0.0) || !std::isfinite(a.softcap))
    fail(MSW_STATUS_INVALID_ARGUMENT, "softcap " + std::to_string(a.softcap) + " must be finite and >= 0 (0: none)");
  const auto& kc = require(&a.k_cache, "k_cache", ctx.device);
  const auto& vc = require(&a.v_cache, "v_cache", ctx.device);
  if (kc.ndim != 4)
    fail(MSW_STATUS_SHAPE_MISMATCH, "k_cache is " + describe(kc) + ", expected (N, capacity, kv heads, head_dim)");
  const int64_t n = kc.shape[0], cap = kc.shape[1], hkv = kc.shape[2], d = kc.shape[3];
  require_shape(vc, "v_cache", {n, cap, hkv, d});
  const int64_t k_row = cache_row_stride(kc, "k_cache"), v_row = cache_row_stride(vc, "v_cache");
  if (k_row != v_row)
    fail(MSW_STATUS_SHAPE_MISMATCH, "k_cache and v_cache have different row strides (" + std::to_string(k_row) + " and " +
                                        std::to_string(v_row) + " elements)");
  const auto& tq = require(&a.q, "q", ctx.device);
  const auto& tk = require(&a.k_new, "k_new", ctx.device);
  const auto& tv = require(&a.v_new, "v_new", ctx.device);
  const std::vector<int64_t> cached = read_cache_seqlens(ctx, opt(a.cache_seqlens), n, cap);

  std::vector<kern::KvCacheRow> rows(static_cast<size_t>(n));
  int64_t hq = 0, kv_stride = 0, q_stride = 0, lse_stride = 0, q_rows = 0;
  const KvNewTokens nt = kvcache_new_tokens(a.layout, tq, tk, tv, n, hkv, d);
  hq = nt.q_heads;
  if (a.layout == MSW_ATTN_SBHD) {
    const int64_t s = nt.tokens;
    for (int64_t i = 0; i < n; ++i) rows[static_cast<size_t>(i)] = {cached[static_cast<size_t>(i)], s, i * hkv * d};
    kv_stride = n * hkv * d;
    q_stride = n * hq * d;
    lse_stride = n * hq;
    q_rows = s * n;
  } else {
    const int64_t t = nt.tokens;
    const std::vector<int32_t> cu = read_cu_seqlens(ctx, opt(a.cu_seqlens_q), "cu_seqlens_q", t);
    if (static_cast<int64_t>(cu.size()) != n + 1)
      fail(MSW_STATUS_SHAPE_MISMATCH, "cu_seqlens_q has " + std::to_string(cu.size()) + " entries, expected N + 1 = " +
                                          std::to_string(n + 1) + " (one sequence of new tokens per cache row)");
    for (int64_t i = 0; i < n; ++i) {
      const int64_t count = cu[static_cast<size_t>(i) + 1] - cu[static_cast<size_t>(i)];
      if (a.max_seqlen_q > 0 && count > a.max_seqlen_q)
        fail(MSW_STATUS_INVALID_ARGUMENT, "row " + std::to_string(i) + " has " + std::to_string(count) +
                                              " new tokens, more than max_seqlen_q = " + std::to_string(a.max_seqlen_q));
      rows[static_cast<size_t>(i)] = {cached[static_cast<size_t>(i)], count, cu[static_cast<size_t>(i)] * hkv * d};
    }
    kv_stride = hkv * d;
    q_stride = hq * d;
    lse_stride = hq;
    q_rows = t;
  }
  const auto& to = require(&a.out, "out", ctx.device);
  bool same = to.ndim == tq.ndim;
  for (int32_t i = 0; same && i < tq.ndim; ++i) same = to.shape[i] == tq.shape[i];
  if (!same) fail(MSW_STATUS_SHAPE_MISMATCH, "out is " + describe(to) + ", expected q's shape " + describe(tq));

  kern::AttentionProblem p = kern::attention_kvcache(rows.data(), n, cap, hq, hkv, d, q_stride, lse_stride, k_row);
  p.params.scale = static_cast<float>(a.scale != 0.0 ? a.scale : 1.0 / std::sqrt(static_cast<double>(d)));
  p.params.window_left = a.window_left;
  p.params.softcap = static_cast<float>(a.softcap);
  kern::attention_validate(p.params, p.seqs.data(), n);

  auto* k_cache = reinterpret_cast<float*>(static_cast<char*>(kc.data) + kc.byte_offset);
  auto* v_cache = reinterpret_cast<float*>(static_cast<char*>(vc.data) + vc.byte_offset);
  F32In iq(a.q), ik(a.k_new), iv(a.v_new);
  kern::kv_cache_write(rows.data(), n, cap, hkv * d, ik.data(), kv_stride, k_cache, k_row);
  kern::kv_cache_write(rows.data(), n, cap, hkv * d, iv.data(), kv_stride, v_cache, v_row);
  std::vector<float> lse(static_cast<size_t>(q_rows * hq));  // the kernel's by-product, not an output here
  F32Out o(a.out, false);
  if (a.layout == MSW_ATTN_THD) std::fill(o.data(), o.data() + q_rows * hq * d, 0.0f);  // tokens of no row stay 0
  kern::attention_forward(p.params, p.seqs.data(), n, iq.data(), k_cache, v_cache, o.data(), lse.data());
  o.commit();
}

}  // namespace megaswift::host::ops::cpu_impl
