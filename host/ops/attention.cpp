// qkv split and attention (SBHD and THD layouts, bottom-right causal, GQA, sliding window, softcap).
#include "host/ops/cpu_ops.hpp"
#include "host/ops/cu_seqlens.hpp"
#include "host/ops/rope_args.hpp"
#include "host/ops/tensor_args.hpp"

#include "kernels/cpu/attention.hpp"
#include "kernels/cpu/qkv_split.hpp"
#include "kernels/cpu/rope.hpp"

#include <algorithm>
#include <cmath>
#include <optional>
#include <vector>

namespace megaswift::host::ops::cpu_impl {

namespace kern = megaswift::kernels::cpu;

// cu_seqlens (I32, N+1): non-decreasing offsets within [0, rows]; returns them as host values.
std::vector<int32_t> read_cu_seqlens(Ctx ctx, const msw_tensor* t, const char* name, int64_t rows) {
  if (!t) fail(MSW_STATUS_INVALID_ARGUMENT, std::string("the THD layout needs ") + name + " (I32, N+1 sequence offsets)");
  require(t, name, ctx.device, false);
  if (t->dtype != MSW_DTYPE_I32 || t->ndim != 1 || t->shape[0] < 1)
    fail(MSW_STATUS_SHAPE_MISMATCH, std::string(name) + " is " + describe(*t) + ", expected i32 (N+1) sequence offsets");
  const auto* p = reinterpret_cast<const int32_t*>(static_cast<const char*>(t->data) + t->byte_offset);
  std::vector<int32_t> cu(p, p + t->shape[0]);
  for (size_t i = 0; i < cu.size(); ++i) {
    const bool bad = cu[i] < 0 || cu[i] > rows || (i > 0 && cu[i] < cu[i - 1]);
    if (bad)
      fail(MSW_STATUS_INVALID_ARGUMENT, std::string(name) + "[" + std::to_string(i) + "] = " + std::to_string(cu[i]) +
                                            ": offsets must be non-decreasing and within the " + std::to_string(rows) +
                                            " rows of the tensor");
  }
  return cu;
}

namespace {

struct SplitDims {
  int64_t rows, q_heads, kv_heads, head_dim;
};

// q (R, Hq, D) or (B, S, Hq, D); k and v likewise with Hkv heads; qkv (R, Hkv*(Hq/Hkv+2)*D).
SplitDims split_dims(Ctx ctx, T q, T k, T v, T qkv, const char* qn, const char* kn, const char* vn, const char* qkvn) {
  const auto& tq = require(q, qn, ctx.device);
  const auto& tk = require(k, kn, ctx.device);
  require(v, vn, ctx.device);
  const auto& tqkv = require(qkv, qkvn, ctx.device);
  if (tq.ndim < 2 || tk.ndim < 2)
    fail(MSW_STATUS_SHAPE_MISMATCH, std::string(qn) + " and " + kn + " must end in (heads, head_dim)");
  SplitDims d{rows_of(tq) / std::max<int64_t>(tq.shape[tq.ndim - 2], 1), tq.shape[tq.ndim - 2],
              tk.shape[tk.ndim - 2], tq.shape[tq.ndim - 1]};
  if (d.kv_heads <= 0 || d.q_heads % d.kv_heads != 0)
    fail(MSW_STATUS_SHAPE_MISMATCH, std::to_string(d.q_heads) + " query heads cannot be grouped over " +
                                        std::to_string(d.kv_heads) + " kv heads");
  require_numel(tk, kn, d.rows * d.kv_heads * d.head_dim, "rows x kv heads x head_dim");
  require_numel(*v, vn, d.rows * d.kv_heads * d.head_dim, "rows x kv heads x head_dim");
  const int64_t width = d.kv_heads * (d.q_heads / d.kv_heads + 2) * d.head_dim;
  if (last_dim(tqkv) != width || rows_of(tqkv) != d.rows)
    fail(MSW_STATUS_SHAPE_MISMATCH, std::string(qkvn) + " is " + describe(tqkv) + ", expected " +
                                        std::to_string(d.rows) + " rows of " + std::to_string(width) +
                                        " = kv_heads * (q_heads / kv_heads + 2) * head_dim");
  return d;
}

// The sequences of one attention call, read from the tensors' shapes (SBHD) or cu_seqlens (THD).
struct AttentionCall {
  kern::AttentionProblem problem;
  int64_t q_row = 0, kv_row = 0;                 // elements per token in q and in k, v
  int64_t q_rows = 0, kv_rows = 0;               // tokens in q and in k, v
  int64_t q_first = 0, q_end = 0;                // THD: the tokens the sequences cover, [first, end)
  int64_t kv_first = 0, kv_end = 0;
};

void check_max_seqlen(const std::vector<int32_t>& cu, int64_t max_seqlen, const char* name) {
  if (max_seqlen <= 0) return;  // not given: the CPU backend does not need it to size anything
  for (size_t i = 0; i + 1 < cu.size(); ++i)
    if (cu[i + 1] - cu[i] > max_seqlen)
      fail(MSW_STATUS_INVALID_ARGUMENT, "sequence " + std::to_string(i) + " has " + std::to_string(cu[i + 1] - cu[i]) +
                                            " tokens, more than " + name + " = " + std::to_string(max_seqlen));
}

AttentionCall attention_call(Ctx ctx, const msw_attention_args& a) {
  if (a.layout != MSW_ATTN_SBHD && a.layout != MSW_ATTN_THD)
    fail(MSW_STATUS_INVALID_ARGUMENT, "unknown layout " + std::to_string(a.layout) + " (0 SBHD, 1 THD)");
  if (a.causal != 0 && a.causal != 1)
    fail(MSW_STATUS_UNSUPPORTED, "causal = " + std::to_string(a.causal) + ": only causal attention exists (0 or 1)");
  if (a.window_left < 0)
    fail(MSW_STATUS_INVALID_ARGUMENT, "window_left " + std::to_string(a.window_left) + " is negative (0: no window)");
  if (!(a.softcap >= 0.0) || !std::isfinite(a.softcap))
    fail(MSW_STATUS_INVALID_ARGUMENT, "softcap " + std::to_string(a.softcap) + " must be finite and >= 0 (0: none)");
  const auto& tq = require(&a.q, "q", ctx.device);
  const auto& tk = require(&a.k, "k", ctx.device);
  const auto& tv = require(&a.v, "v", ctx.device);
  AttentionCall c;
  if (a.layout == MSW_ATTN_SBHD) {
    if (tq.ndim != 4 || tk.ndim != 4)
      fail(MSW_STATUS_SHAPE_MISMATCH, "q is " + describe(tq) + " and k is " + describe(tk) +
                                          ", expected (S, B, heads, head_dim) for the SBHD layout");
    const int64_t sq = tq.shape[0], b = tq.shape[1], hq = tq.shape[2], d = tq.shape[3];
    const int64_t skv = tk.shape[0], hkv = tk.shape[2];
    require_shape(tk, "k", {skv, b, hkv, d});
    require_shape(tv, "v", {skv, b, hkv, d});
    if (sq > skv)
      fail(MSW_STATUS_SHAPE_MISMATCH, "q has " + std::to_string(sq) + " positions but k only " + std::to_string(skv) +
                                          ": the queries are the last positions of the keys' sequence");
    require_shape(require(&a.out, "out", ctx.device), "out", {sq, b, hq, d});
    require_shape(require(&a.lse, "lse", ctx.device), "lse", {sq, b, hq});
    c.problem = kern::attention_sbhd(b, sq, skv, hq, hkv, d);
    c.q_rows = c.q_end = sq * b;
    c.kv_rows = c.kv_end = skv * b;
    c.q_row = hq * d;
    c.kv_row = hkv * d;
  } else {
    if (tq.ndim != 3 || tk.ndim != 3)
      fail(MSW_STATUS_SHAPE_MISMATCH, "q is " + describe(tq) + " and k is " + describe(tk) +
                                          ", expected (T, heads, head_dim) for the THD layout");
    const int64_t tq_rows = tq.shape[0], hq = tq.shape[1], d = tq.shape[2];
    const int64_t tkv_rows = tk.shape[0], hkv = tk.shape[1];
    require_shape(tk, "k", {tkv_rows, hkv, d});
    require_shape(tv, "v", {tkv_rows, hkv, d});
    require_shape(require(&a.out, "out", ctx.device), "out", {tq_rows, hq, d});
    require_shape(require(&a.lse, "lse", ctx.device), "lse", {tq_rows, hq});
    const std::vector<int32_t> cu_q = read_cu_seqlens(ctx, opt(a.cu_seqlens_q), "cu_seqlens_q", tq_rows);
    const msw_tensor* cu_kv_t = opt(a.cu_seqlens_kv);
    const std::vector<int32_t> cu_kv = cu_kv_t ? read_cu_seqlens(ctx, cu_kv_t, "cu_seqlens_kv", tkv_rows) : cu_q;
    if (cu_kv.size() != cu_q.size())
      fail(MSW_STATUS_SHAPE_MISMATCH, "cu_seqlens_kv has " + std::to_string(cu_kv.size()) + " entries but cu_seqlens_q " +
                                          std::to_string(cu_q.size()) + ": both list the same sequences");
    if (!cu_kv_t && cu_q.back() > tkv_rows)
      fail(MSW_STATUS_SHAPE_MISMATCH, "cu_seqlens_q reaches row " + std::to_string(cu_q.back()) + " but k has " +
                                          std::to_string(tkv_rows) + " rows (give cu_seqlens_kv when they differ)");
    check_max_seqlen(cu_q, a.max_seqlen_q, "max_seqlen_q");
    check_max_seqlen(cu_kv, a.max_seqlen_kv, "max_seqlen_kv");
    const auto n = static_cast<int64_t>(cu_q.size()) - 1;
    c.problem = kern::attention_thd(cu_q.data(), cu_kv.data(), n, hq, hkv, d);
    c.q_rows = tq_rows;
    c.kv_rows = tkv_rows;
    c.q_first = cu_q.front();
    c.q_end = cu_q.back();
    c.kv_first = cu_kv.front();
    c.kv_end = cu_kv.back();
    c.q_row = hq * d;
    c.kv_row = hkv * d;
  }
  kern::AttentionParams& p = c.problem.params;
  p.scale = static_cast<float>(a.scale != 0.0 ? a.scale : 1.0 / std::sqrt(static_cast<double>(p.head_dim)));
  p.window_left = a.window_left;
  p.softcap = static_cast<float>(a.softcap);
  kern::attention_validate(p, c.problem.seqs.data(), static_cast<int64_t>(c.problem.seqs.size()));
  return c;
}

void require_same_shape(const msw_tensor& t, const char* name, const msw_tensor& ref, const char* ref_name) {
  bool same = t.ndim == ref.ndim;
  for (int32_t i = 0; same && i < t.ndim; ++i) same = t.shape[i] == ref.shape[i];
  if (!same)
    fail(MSW_STATUS_SHAPE_MISMATCH, std::string(name) + " is " + describe(t) + ", expected the shape of " + ref_name +
                                        " " + describe(ref));
}

// Rows outside [first, end) (THD tokens no sequence covers) are written as zeros, so every output is
// defined everywhere.
void zero_uncovered(float* x, int64_t rows, int64_t first, int64_t end, int64_t row_elems) {
  std::fill(x, x + first * row_elems, 0.0f);
  std::fill(x + end * row_elems, x + rows * row_elems, 0.0f);
}

// RoPE riding on the split (ABI 2.4): its geometry when the tables are given, absent otherwise.
std::optional<RopeDims> split_rope(Ctx ctx, const msw_qkv_split_args& a, const char* qn, const char* kn) {
  if (!split_has_rope(a)) return std::nullopt;
  return split_rope_dims(a, qn, kn, require(&a.cos, "cos", ctx.device), require(&a.sin, "sin", ctx.device));
}

}  // namespace

void qkv_split_forward(Ctx ctx, const msw_qkv_split_args& a) {
  const SplitDims d = split_dims(ctx, &a.q, &a.k, &a.v, &a.qkv, "q", "k", "v", "qkv");
  const std::optional<RopeDims> rope = split_rope(ctx, a, "q", "k");
  F32In in(a.qkv);
  F32Out oq(a.q, false), ok(a.k, false), ov(a.v, false);
  kern::qkv_split_forward(in.data(), oq.data(), ok.data(), ov.data(), d.rows, d.q_heads, d.kv_heads, d.head_dim);
  if (rope) {
    F32In c(a.cos), s(a.sin);
    kern::rope_forward(oq.data(), oq.data(), c.data(), s.data(), rope->tokens, d.q_heads, d.head_dim, rope->rotary_dim,
                       rope->rows_per_position);
    kern::rope_forward(ok.data(), ok.data(), c.data(), s.data(), rope->tokens, d.kv_heads, d.head_dim, rope->rotary_dim,
                       rope->rows_per_position);
  }
  oq.commit();
  ok.commit();
  ov.commit();
}

void qkv_split_backward(Ctx ctx, const msw_qkv_split_args& a) {
  const SplitDims d = split_dims(ctx, &a.q, &a.k, &a.v, &a.qkv, "dq", "dk", "dv", "dqkv");
  const std::optional<RopeDims> rope = split_rope(ctx, a, "dq", "dk");
  F32In gq(a.q), gk(a.k), gv(a.v);
  const float *q = gq.data(), *k = gk.data();
  std::vector<float> rq, rk;  // the inverse rotations of dq and dk, which stay as they are
  if (rope) {
    F32In c(a.cos), s(a.sin);
    rq.resize(static_cast<size_t>(msw_tensor_numel(&a.q)));
    rk.resize(static_cast<size_t>(msw_tensor_numel(&a.k)));
    kern::rope_backward(q, rq.data(), c.data(), s.data(), rope->tokens, d.q_heads, d.head_dim, rope->rotary_dim,
                        rope->rows_per_position);
    kern::rope_backward(k, rk.data(), c.data(), s.data(), rope->tokens, d.kv_heads, d.head_dim, rope->rotary_dim,
                        rope->rows_per_position);
    q = rq.data();
    k = rk.data();
  }
  F32Out out(a.qkv, false);
  kern::qkv_split_backward(q, k, gv.data(), out.data(), d.rows, d.q_heads, d.kv_heads, d.head_dim);
  out.commit();
}

void attention_forward(Ctx ctx, const msw_attention_args& a) {
  const AttentionCall c = attention_call(ctx, a);
  const kern::AttentionParams& p = c.problem.params;
  F32In iq(a.q), ik(a.k), iv(a.v);
  F32Out o(a.out, false), l(a.lse, false);
  kern::attention_forward(p, c.problem.seqs.data(), static_cast<int64_t>(c.problem.seqs.size()), iq.data(), ik.data(),
                          iv.data(), o.data(), l.data());
  zero_uncovered(o.data(), c.q_rows, c.q_first, c.q_end, c.q_row);
  zero_uncovered(l.data(), c.q_rows, c.q_first, c.q_end, p.q_heads);
  o.commit();
  l.commit();
}

void attention_backward(Ctx ctx, const msw_attention_args& a) {
  const AttentionCall c = attention_call(ctx, a);
  const kern::AttentionParams& p = c.problem.params;
  require_same_shape(require(&a.dout, "dout", ctx.device), "dout", a.q, "q");
  require_same_shape(require(&a.dq, "dq", ctx.device), "dq", a.q, "q");
  require_same_shape(require(&a.dk, "dk", ctx.device), "dk", a.k, "k");
  require_same_shape(require(&a.dv, "dv", ctx.device), "dv", a.v, "v");
  F32In iq(a.q), ik(a.k), iv(a.v), io(a.out), il(a.lse), g(a.dout);
  F32Out gq(a.dq, false), gk(a.dk, false), gv(a.dv, false);
  kern::attention_backward(p, c.problem.seqs.data(), static_cast<int64_t>(c.problem.seqs.size()), iq.data(), ik.data(),
                           iv.data(), io.data(), il.data(), g.data(), gq.data(), gk.data(), gv.data());
  zero_uncovered(gq.data(), c.q_rows, c.q_first, c.q_end, c.q_row);
  zero_uncovered(gk.data(), c.kv_rows, c.kv_first, c.kv_end, c.kv_row);
  zero_uncovered(gv.data(), c.kv_rows, c.kv_first, c.kv_end, c.kv_row);
  gq.commit();
  gk.commit();
  gv.commit();
}

}  // namespace megaswift::host::ops::cpu_impl
