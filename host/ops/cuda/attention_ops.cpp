// attention_forward, attention_backward and attention_kvcache_forward on the GPU (kernels/cuda/attention.hpp,
// kv_cache.hpp). The checks mirror the CPU ones (host/ops/attention.cpp, attention_kvcache.cpp) except those
// that need the values of cu_seqlens or cache_seqlens: those live on the device and are never read on the host
// (no synchronisation inside an op). The kernels clamp them into the tensors instead, so a bad offset gives
// wrong numbers for its sequence, never an access outside a tensor; the grids are sized by max_seqlen (or the
// row count when it is not given), and a sequence longer than max_seqlen is still computed in full.
#include "host/ops/shared_checks.hpp"
#include "host/ops/cuda/cuda_args.hpp"
#include "host/ops/cuda/cuda_table.hpp"

#include "kernels/cuda/attention.hpp"
#include "kernels/cuda/kv_cache.hpp"

#include <cmath>
#include <string>

namespace megaswift::host::ops::cuda_impl {
namespace {

void check_options(int32_t layout, int64_t window_left, double softcap) {
  if (layout != MSW_ATTN_SBHD && layout != MSW_ATTN_THD)
    fail(MSW_STATUS_INVALID_ARGUMENT, "unknown layout " + std::to_string(layout) + " (0 SBHD, 1 THD)");
  if (window_left < 0)
    fail(MSW_STATUS_INVALID_ARGUMENT, "window_left " + std::to_string(window_left) + " is negative (0: no window)");
  if (!(softcap >= 0.0) || !std::isfinite(softcap))
    fail(MSW_STATUS_INVALID_ARGUMENT, "softcap " + std::to_string(softcap) + " must be finite and >= 0 (0: none)");
}

void check_heads(int64_t hq, int64_t hkv, int64_t d) {
  if (hq <= 0 || hkv <= 0 || hq % hkv != 0)
    fail(MSW_STATUS_SHAPE_MISMATCH, std::to_string(hq) + " query heads cannot be grouped over " + std::to_string(hkv) +
                                        " kv heads");
  if (d <= 0) fail(MSW_STATUS_SHAPE_MISMATCH, "head_dim " + std::to_string(d) + " must be positive");
  if (d > kc::kAttentionMaxHeadDim)
    fail(MSW_STATUS_UNSUPPORTED, "head_dim " + std::to_string(d) + ": the CUDA attention kernels take head dims up to " +
                                     std::to_string(kc::kAttentionMaxHeadDim));
  if (hq > 65535) fail(MSW_STATUS_UNSUPPORTED, std::to_string(hq) + " query heads: the CUDA kernels take up to 65535");
}

// A dense float tensor of `ref`'s dtype.
const msw_tensor& require_like(Ctx ctx, const msw_tensor* t, const char* name, const msw_tensor& ref, const char* ref_name) {
  const msw_tensor& r = require_dense_float(ctx, t, name);
  if (r.dtype != ref.dtype)
    fail(MSW_STATUS_UNSUPPORTED, std::string(name) + " is " + describe(r) + " but " + ref_name + " " + describe(ref) +
                                     ": the CUDA attention takes one dtype for them");
  return r;
}

void require_same_shape(const msw_tensor& t, const char* name, const msw_tensor& ref, const char* ref_name) {
  bool same = t.ndim == ref.ndim;
  for (int32_t i = 0; same && i < t.ndim; ++i) same = t.shape[i] == ref.shape[i];
  if (!same)
    fail(MSW_STATUS_SHAPE_MISMATCH, std::string(name) + " is " + describe(t) + ", expected the shape of " + ref_name +
                                        " " + describe(ref));
}

// lse: F32 (ops.h), dense.
const msw_tensor& require_lse(Ctx ctx, const msw_tensor* t) {
  const msw_tensor& r = require(t, "lse", ctx.device, false);
  if (r.dtype != MSW_DTYPE_F32) fail(MSW_STATUS_UNSUPPORTED, "lse is " + describe(r) + ": the CUDA attention keeps lse in f32");
  if (!msw_tensor_is_contiguous(&r)) fail(MSW_STATUS_INVALID_ARGUMENT, "lse " + describe(r) + " is not contiguous");
  return r;
}

// cu_seqlens: I32 (N+1) on the device, dense. Its values are the kernels' to read.
const msw_tensor& require_cu_seqlens(Ctx ctx, const msw_tensor* t, const char* name) {
  if (!t) fail(MSW_STATUS_INVALID_ARGUMENT, std::string("the THD layout needs ") + name + " (I32, N+1 sequence offsets)");
  require(t, name, ctx.device, false);
  if (t->dtype != MSW_DTYPE_I32 || t->ndim != 1 || t->shape[0] < 1)
    fail(MSW_STATUS_SHAPE_MISMATCH, std::string(name) + " is " + describe(*t) + ", expected i32 (N+1) sequence offsets");
  if (!msw_tensor_is_contiguous(t)) fail(MSW_STATUS_INVALID_ARGUMENT, std::string(name) + " " + describe(*t) + " is not contiguous");
  return *t;
}

const int32_t* i32_of(const msw_tensor& t) { return static_cast<const int32_t*>(data_of(t)); }

// The geometry of attention_forward/backward from the tensors' shapes (q, k, v, out, lse checked here).
kc::AttentionGeometry attention_geometry(Ctx ctx, const msw_attention_args& a) {
  check_options(a.layout, a.window_left, a.softcap);
  if (a.causal != 0 && a.causal != 1)
    fail(MSW_STATUS_UNSUPPORTED, "causal = " + std::to_string(a.causal) + ": only causal attention exists (0 or 1)");
  const auto& tq = require_dense_float(ctx, &a.q, "q");
  const auto& tk = require_like(ctx, &a.k, "k", tq, "q");
  const auto& tv = require_like(ctx, &a.v, "v", tq, "q");
  const auto& to = require_like(ctx, &a.out, "out", tq, "q");
  const auto& tl = require_lse(ctx, &a.lse);
  kc::AttentionGeometry g;
  int64_t hq, hkv, d;
  if (a.layout == MSW_ATTN_SBHD) {
    if (tq.ndim != 4 || tk.ndim != 4)
      fail(MSW_STATUS_SHAPE_MISMATCH, "q is " + describe(tq) + " and k is " + describe(tk) +
                                          ", expected (S, B, heads, head_dim) for the SBHD layout");
    const int64_t sq = tq.shape[0], b = tq.shape[1], skv = tk.shape[0];
    hq = tq.shape[2];
    hkv = tk.shape[2];
    d = tq.shape[3];
    require_shape(tk, "k", {skv, b, hkv, d});
    require_shape(tv, "v", {skv, b, hkv, d});
    if (sq > skv)
      fail(MSW_STATUS_SHAPE_MISMATCH, "q has " + std::to_string(sq) + " positions but k only " + std::to_string(skv) +
                                          ": the queries are the last positions of the keys' sequence");
    require_shape(to, "out", {sq, b, hq, d});
    require_shape(tl, "lse", {sq, b, hq});
    g.n_seqs = b;
    g.q_len = sq;
    g.kv = kc::AttentionKv::batched;
    g.kv_len = skv;
  } else {
    if (tq.ndim != 3 || tk.ndim != 3)
      fail(MSW_STATUS_SHAPE_MISMATCH, "q is " + describe(tq) + " and k is " + describe(tk) +
                                          ", expected (T, heads, head_dim) for the THD layout");
    const int64_t tq_rows = tq.shape[0], tkv_rows = tk.shape[0];
    hq = tq.shape[1];
    hkv = tk.shape[1];
    d = tq.shape[2];
    require_shape(tk, "k", {tkv_rows, hkv, d});
    require_shape(tv, "v", {tkv_rows, hkv, d});
    require_shape(to, "out", {tq_rows, hq, d});
    require_shape(tl, "lse", {tq_rows, hq});
    const auto& cu_q = require_cu_seqlens(ctx, opt(a.cu_seqlens_q), "cu_seqlens_q");
    const msw_tensor* cu_kv = opt(a.cu_seqlens_kv);
    if (cu_kv) {
      require_cu_seqlens(ctx, cu_kv, "cu_seqlens_kv");
      if (cu_kv->shape[0] != cu_q.shape[0])
        fail(MSW_STATUS_SHAPE_MISMATCH, "cu_seqlens_kv has " + std::to_string(cu_kv->shape[0]) +
                                            " entries but cu_seqlens_q " + std::to_string(cu_q.shape[0]) +
                                            ": both list the same sequences");
    }
    g.n_seqs = cu_q.shape[0] - 1;
    g.q_packed = true;
    g.q_rows = tq_rows;
    g.cu_q = i32_of(cu_q);
    g.max_q = a.max_seqlen_q;
    g.kv = kc::AttentionKv::packed;
    g.kv_rows = tkv_rows;
    g.cu_kv = cu_kv ? i32_of(*cu_kv) : g.cu_q;  // absent: the same offsets as q
    g.max_kv = cu_kv ? a.max_seqlen_kv : (a.max_seqlen_kv > 0 ? a.max_seqlen_kv : a.max_seqlen_q);
  }
  check_heads(hq, hkv, d);
  g.q_heads = static_cast<int32_t>(hq);
  g.kv_heads = static_cast<int32_t>(hkv);
  g.head_dim = static_cast<int32_t>(d);
  g.scale = static_cast<float>(a.scale != 0.0 ? a.scale : 1.0 / std::sqrt(static_cast<double>(d)));
  g.window_left = a.window_left;
  g.softcap = static_cast<float>(a.softcap);
  return g;
}

void attention_forward(Ctx ctx, const msw_attention_args& a) {
  const kc::AttentionGeometry g = attention_geometry(ctx, a);
  const kc::Dtype dt = float_dtype(a.q, "q");
  use_device(ctx);
  kc::attention_forward(g, data_of(a.q), data_of(a.k), data_of(a.v), dt, dt, data_of(a.out),
                        static_cast<float*>(data_of(a.lse)), stream_of(ctx));
  if (g.q_packed) {  // tokens no sequence covers: zeros, as the CPU backend writes
    kc::attention_zero_uncovered(data_of(a.out), dt, g.q_rows, int64_t{g.q_heads} * g.head_dim, g.cu_q, g.n_seqs, stream_of(ctx));
    kc::attention_zero_uncovered(data_of(a.lse), kc::Dtype::f32, g.q_rows, g.q_heads, g.cu_q, g.n_seqs, stream_of(ctx));
  }
}

void attention_backward(Ctx ctx, const msw_attention_args& a) {
  const kc::AttentionGeometry g = attention_geometry(ctx, a);
  require_same_shape(require_like(ctx, &a.dout, "dout", a.q, "q"), "dout", a.q, "q");
  require_same_shape(require_like(ctx, &a.dq, "dq", a.q, "q"), "dq", a.q, "q");
  require_same_shape(require_like(ctx, &a.dk, "dk", a.q, "q"), "dk", a.k, "k");
  require_same_shape(require_like(ctx, &a.dv, "dv", a.q, "q"), "dv", a.v, "v");
  const kc::Dtype dt = float_dtype(a.q, "q");
  use_device(ctx);
  const int64_t floats = kc::attention_backward_scratch(g, dt);
  Scratch delta(ctx, static_cast<size_t>(floats > 0 ? floats : 1) * sizeof(float));
  kc::attention_backward(g, data_of(a.q), data_of(a.k), data_of(a.v), data_of(a.out),
                         static_cast<const float*>(data_of(a.lse)), data_of(a.dout), data_of(a.dq), data_of(a.dk),
                         data_of(a.dv), dt, static_cast<float*>(delta.data()), stream_of(ctx));
  if (g.q_packed) {
    kc::attention_zero_uncovered(data_of(a.dq), dt, g.q_rows, int64_t{g.q_heads} * g.head_dim, g.cu_q, g.n_seqs, stream_of(ctx));
    const int64_t kv_row = int64_t{g.kv_heads} * g.head_dim;
    kc::attention_zero_uncovered(data_of(a.dk), dt, g.kv_rows, kv_row, g.cu_kv, g.n_seqs, stream_of(ctx));
    kc::attention_zero_uncovered(data_of(a.dv), dt, g.kv_rows, kv_row, g.cu_kv, g.n_seqs, stream_of(ctx));
  }
}

// A cache (N, C, Hkv, D) with dense rows, rows possibly further apart (ops.h); returns the row stride.
int64_t cache_row_stride(const msw_tensor& t, const char* name) {
  const int64_t c = t.shape[1], h = t.shape[2], d = t.shape[3];
  const bool rows_dense = t.strides[3] == 1 && (h == 1 || t.strides[2] == d) && (c == 1 || t.strides[1] == h * d);
  if (!rows_dense || (t.shape[0] > 1 && t.strides[0] < c * h * d))
    fail(MSW_STATUS_UNSUPPORTED, std::string(name) + " is " + describe(t) +
                                     ": a KV cache must have dense rows (strides (>= C*H*D, H*D, D, 1))");
  return t.shape[0] > 1 ? t.strides[0] : c * h * d;
}

void attention_kvcache_forward(Ctx ctx, const msw_attention_kvcache_args& a) {
  check_options(a.layout, a.window_left, a.softcap);
  const auto& kcache = require(&a.k_cache, "k_cache", ctx.device);
  const auto& vcache = require(&a.v_cache, "v_cache", ctx.device);
  if (kcache.ndim != 4)
    fail(MSW_STATUS_SHAPE_MISMATCH, "k_cache is " + describe(kcache) + ", expected (N, capacity, kv heads, head_dim)");
  const int64_t n = kcache.shape[0], cap = kcache.shape[1], hkv = kcache.shape[2], d = kcache.shape[3];
  require_shape(vcache, "v_cache", {n, cap, hkv, d});
  const kc::Dtype cache_dt = float_dtype(kcache, "k_cache");
  if (vcache.dtype != kcache.dtype)
    fail(MSW_STATUS_UNSUPPORTED, "k_cache is " + describe(kcache) + " but v_cache " + describe(vcache) + ": one dtype for both");
  const int64_t k_row = cache_row_stride(kcache, "k_cache"), v_row = cache_row_stride(vcache, "v_cache");
  if (k_row != v_row)
    fail(MSW_STATUS_SHAPE_MISMATCH, "k_cache and v_cache have different row strides (" + std::to_string(k_row) + " and " +
                                        std::to_string(v_row) + " elements)");
  const auto& tq = require_dense_float(ctx, &a.q, "q");
  const auto& tk = require_like(ctx, &a.k_new, "k_new", tq, "q");
  const auto& tv = require_like(ctx, &a.v_new, "v_new", tq, "q");
  const kc::Dtype dt = float_dtype(tq, "q");
  if (cache_dt != dt && cache_dt != kc::Dtype::f32)
    fail(MSW_STATUS_UNSUPPORTED, "k_cache is " + describe(kcache) + " and q " + describe(tq) +
                                     ": the CUDA KV cache is f32 or of q's dtype");
  const msw_tensor* lens = opt(a.cache_seqlens);
  if (!lens) fail(MSW_STATUS_INVALID_ARGUMENT, "cache_seqlens is absent (I32 (N): the tokens each cache row holds)");
  require(lens, "cache_seqlens", ctx.device, false);
  if (lens->dtype != MSW_DTYPE_I32 || lens->ndim != 1 || lens->shape[0] != n)
    fail(MSW_STATUS_SHAPE_MISMATCH, "cache_seqlens is " + describe(*lens) + ", expected i32 (" + std::to_string(n) +
                                        ") = one length per cache row");
  if (!msw_tensor_is_contiguous(lens))
    fail(MSW_STATUS_INVALID_ARGUMENT, "cache_seqlens " + describe(*lens) + " is not contiguous");

  kc::AttentionGeometry g;
  g.n_seqs = n;
  const KvNewTokens nt = kvcache_new_tokens(a.layout, tq, tk, tv, n, hkv, d);
  const int64_t hq = nt.q_heads;
  if (a.layout == MSW_ATTN_SBHD) {
    g.q_len = nt.tokens;
  } else {
    const int64_t t = nt.tokens;
    const auto& cu = require_cu_seqlens(ctx, opt(a.cu_seqlens_q), "cu_seqlens_q");
    if (cu.shape[0] != n + 1)
      fail(MSW_STATUS_SHAPE_MISMATCH, "cu_seqlens_q has " + std::to_string(cu.shape[0]) + " entries, expected N + 1 = " +
                                          std::to_string(n + 1) + " (one sequence of new tokens per cache row)");
    g.q_packed = true;
    g.q_rows = t;
    g.cu_q = i32_of(cu);
    g.max_q = a.max_seqlen_q;
  }
  require_same_shape(require_like(ctx, &a.out, "out", tq, "q"), "out", tq, "q");
  check_heads(hq, hkv, d);
  g.kv = kc::AttentionKv::cache;
  g.cache_seqlens = i32_of(*lens);
  g.cache_capacity = cap;
  g.cache_row_stride = k_row;
  g.q_heads = static_cast<int32_t>(hq);
  g.kv_heads = static_cast<int32_t>(hkv);
  g.head_dim = static_cast<int32_t>(d);
  g.scale = static_cast<float>(a.scale != 0.0 ? a.scale : 1.0 / std::sqrt(static_cast<double>(d)));
  g.window_left = a.window_left;
  g.softcap = static_cast<float>(a.softcap);

  use_device(ctx);
  // The values are at an offset from the keys within one allocation (a plugin's layout), hence two pointers.
  kc::kv_cache_append(g, data_of(tk), data_of(tv), dt, data_of(kcache), data_of(vcache), cache_dt, stream_of(ctx));
  const kc::DecodePlan plan = kc::attention_decode_plan(g);
  if (plan.slots <= kc::kDecodeMaxQueries) {
    Scratch part(ctx, static_cast<size_t>(plan.scratch_floats > 0 ? plan.scratch_floats : 1) * sizeof(float));
    kc::attention_decode(g, plan, data_of(tq), data_of(kcache), data_of(vcache), dt, cache_dt, data_of(a.out),
                         static_cast<float*>(part.data()), stream_of(ctx));
  } else {
    kc::attention_forward(g, data_of(tq), data_of(kcache), data_of(vcache), dt, cache_dt, data_of(a.out), nullptr,
                          stream_of(ctx));
  }
  if (g.q_packed)  // tokens of no row: zeros, as the CPU backend writes
    kc::attention_zero_uncovered(data_of(a.out), dt, g.q_rows, hq * d, g.cu_q, g.n_seqs, stream_of(ctx));
}

}  // namespace

void add_attention_ops(DeviceOpTable& t) {
  t.attention_forward = attention_forward;
  t.attention_backward = attention_backward;
  t.attention_kvcache_forward = attention_kvcache_forward;
}

}  // namespace megaswift::host::ops::cuda_impl
