#include "host/ops/cpu_ops.hpp"
#include "host/ops/tensor_args.hpp"

#include "kernels/cpu/attention.hpp"
#include "kernels/cpu/qkv_split.hpp"

namespace megaswift::host::ops::cpu_impl {

namespace kern = megaswift::kernels::cpu;

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

kern::AttentionShape attention_shape(Ctx ctx, T q, T k, T v) {
  const auto& tq = require(q, "q", ctx.device);
  const auto& tk = require(k, "k", ctx.device);
  const auto& tv = require(v, "v", ctx.device);
  if (tq.ndim != 4 || tk.ndim != 4)
    fail(MSW_STATUS_SHAPE_MISMATCH, "q is " + describe(tq) + " and k is " + describe(tk) + ", expected (B, S, heads, head_dim)");
  kern::AttentionShape s{tq.shape[0], tq.shape[1], tq.shape[2], tk.shape[2], tq.shape[3]};
  require_shape(tk, "k", {s.batch, s.seq, s.kv_heads, s.head_dim});
  require_shape(tv, "v", {s.batch, s.seq, s.kv_heads, s.head_dim});
  kern::attention_validate(s);
  return s;
}

}  // namespace

void qkv_split_forward(Ctx ctx, T qkv, T q, T k, T v) {
  const SplitDims d = split_dims(ctx, q, k, v, qkv, "q", "k", "v", "qkv");
  F32In in(*qkv);
  F32Out oq(*q, false), ok(*k, false), ov(*v, false);
  kern::qkv_split_forward(in.data(), oq.data(), ok.data(), ov.data(), d.rows, d.q_heads, d.kv_heads, d.head_dim);
  oq.commit();
  ok.commit();
  ov.commit();
}

void qkv_split_backward(Ctx ctx, T dq, T dk, T dv, T dqkv) {
  const SplitDims d = split_dims(ctx, dq, dk, dv, dqkv, "dq", "dk", "dv", "dqkv");
  F32In gq(*dq), gk(*dk), gv(*dv);
  F32Out out(*dqkv, false);
  kern::qkv_split_backward(gq.data(), gk.data(), gv.data(), out.data(), d.rows, d.q_heads, d.kv_heads, d.head_dim);
  out.commit();
}

void attention_forward(Ctx ctx, T q, T k, T v, double scale, T out, T lse, T probs) {
  const kern::AttentionShape s = attention_shape(ctx, q, k, v);
  require_shape(require(out, "out", ctx.device), "out", {s.batch, s.seq, s.q_heads, s.head_dim});
  require_shape(require(lse, "lse", ctx.device), "lse", {s.batch, s.q_heads, s.seq});
  if (probs) require_shape(require(probs, "probs", ctx.device), "probs", {s.batch, s.q_heads, s.seq, s.seq});
  F32In iq(*q), ik(*k), iv(*v);
  F32Out o(*out, false), l(*lse, false);
  F32OutOpt p(probs, false);
  kern::attention_forward(s, iq.data(), ik.data(), iv.data(), static_cast<float>(scale), o.data(), l.data(), p.data());
  o.commit();
  l.commit();
  p.commit();
}

void attention_backward(Ctx ctx, T q, T k, T v, T out, T lse, T probs, T dout, double scale, T dq, T dk, T dv) {
  const kern::AttentionShape s = attention_shape(ctx, q, k, v);
  require_shape(require(out, "out", ctx.device), "out", {s.batch, s.seq, s.q_heads, s.head_dim});
  require_shape(require(dout, "dout", ctx.device), "dout", {s.batch, s.seq, s.q_heads, s.head_dim});
  require_shape(require(lse, "lse", ctx.device), "lse", {s.batch, s.q_heads, s.seq});
  if (probs) require_shape(require(probs, "probs", ctx.device), "probs", {s.batch, s.q_heads, s.seq, s.seq});
  require_numel(require(dq, "dq", ctx.device), "dq", msw_tensor_numel(q), "the shape of q");
  require_numel(require(dk, "dk", ctx.device), "dk", msw_tensor_numel(k), "the shape of k");
  require_numel(require(dv, "dv", ctx.device), "dv", msw_tensor_numel(v), "the shape of v");
  F32In iq(*q), ik(*k), iv(*v), io(*out), il(*lse), g(*dout);
  F32InOpt ip(probs);
  F32Out gq(*dq, false), gk(*dk, false), gv(*dv, false);
  kern::attention_backward(s, iq.data(), ik.data(), iv.data(), io.data(), il.data(), ip.data(), g.data(),
                        static_cast<float>(scale), gq.data(), gk.data(), gv.data());
  gq.commit();
  gk.commit();
  gv.commit();
}

}  // namespace megaswift::host::ops::cpu_impl
