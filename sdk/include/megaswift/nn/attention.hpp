// Self-attention sublayer of a GPT decoder: fused QKV projection (optional bias), per-head q/k RMSNorm (Qwen3),
// rotary embedding (every msw_rope_scaling variant), causal GQA attention with float32 softmax, and the output
// projection. Input is the normed hidden state (T, H) with T = B*S; output is the projection (T, H), before
// the residual add.
//
// Kept for backward (Saved): q and k after RoPE, v, the attention output, the softmax log-sum-exp, and with
// qk-norm the pre-norm q/k and their rstd; the softmax probabilities too unless recompute is selective.
// Workspace: the QKV projection output and the RoPE tables in forward; gradients in backward.
#pragma once

#include <megaswift/nn/arena.hpp>
#include <megaswift/nn/linear.hpp>
#include <megaswift/sdk/ops.hpp>

#include <cmath>
#include <optional>
#include <string>

namespace megaswift::nn {

struct SelfAttention {
  int64_t hidden = 0;
  int64_t q_heads = 0;
  int64_t kv_heads = 0;
  int64_t head_dim = 0;
  bool qkv_bias = false;
  bool proj_bias = false;
  bool qk_norm = false;
  double qk_norm_eps = 1e-6;
  msw_rope_config rope{};
  bool keep_probs = false;                // false = selective recompute of the softmax in backward
  std::optional<int64_t> sliding_window;  // refused when the sequence is longer

  struct Params {
    const msw_tensor* qkv_weight = nullptr;
    const msw_tensor* qkv_bias = nullptr;
    const msw_tensor* q_norm = nullptr;
    const msw_tensor* k_norm = nullptr;
    const msw_tensor* proj_weight = nullptr;
    const msw_tensor* proj_bias = nullptr;
  };

  struct Saved {
    msw_tensor q{}, k{}, v{};           // (B, S, heads, D), q and k after RoPE
    msw_tensor q_pre{}, k_pre{};        // qk-norm inputs (B, S, heads, D)
    msw_tensor q_rstd{}, k_rstd{};      // qk-norm statistics (B*S*heads)
    msw_tensor ctx{};                   // attention output (B, S, Hq, D)
    msw_tensor lse{};                   // (B, Hq, S)
    msw_tensor probs{};                 // (B, Hq, S, S) when keep_probs
  };

  Linear qkv_linear() const { return {hidden, qkv_width(), qkv_bias, TpRole::column}; }
  Linear proj_linear() const { return {q_heads * head_dim, hidden, proj_bias, TpRole::row}; }
  int64_t qkv_width() const { return (q_heads + 2 * kv_heads) * head_dim; }

  Saved declare_saved(Arena& a, int64_t b, int64_t s) const {
    Saved r;
    r.q = a.f32({b, s, q_heads, head_dim});
    r.k = a.f32({b, s, kv_heads, head_dim});
    r.v = a.f32({b, s, kv_heads, head_dim});
    if (qk_norm) {
      r.q_pre = a.f32({b, s, q_heads, head_dim});
      r.k_pre = a.f32({b, s, kv_heads, head_dim});
      r.q_rstd = a.f32({b * s * q_heads});
      r.k_rstd = a.f32({b * s * kv_heads});
    }
    r.ctx = a.f32({b, s, q_heads, head_dim});
    r.lse = a.f32({b, q_heads, s});
    if (keep_probs) r.probs = a.f32({b, q_heads, s, s});
    return r;
  }

  struct Tables {
    msw_tensor cos{}, sin{};
  };
  // RoPE tables: S rows when every sequence starts at 0, B*S rows for explicit position ids.
  Tables declare_tables(Arena& a, int64_t b, int64_t s, bool per_token) const {
    const int64_t half = rotary_dim() / 2;
    const int64_t rows = per_token ? b * s : s;
    return {a.f32({rows, half}), a.f32({rows, half})};
  }

  struct ForwardScratch {
    msw_tensor qkv{};
    Tables tables;
  };
  ForwardScratch declare_forward(Arena& a, int64_t b, int64_t s, bool per_token) const {
    ForwardScratch r;
    r.qkv = a.f32({b * s, qkv_width()});
    r.tables = declare_tables(a, b, s, per_token);
    return r;
  }

  struct BackwardScratch {
    msw_tensor dctx{}, dq{}, dk{}, dv{}, dqkv{};
    Tables tables;
  };
  BackwardScratch declare_backward(Arena& a, int64_t b, int64_t s, bool per_token) const {
    BackwardScratch r;
    r.dctx = a.f32({b, s, q_heads, head_dim});
    r.dq = a.f32({b, s, q_heads, head_dim});
    r.dk = a.f32({b, s, kv_heads, head_dim});
    r.dv = a.f32({b, s, kv_heads, head_dim});
    r.dqkv = a.f32({b * s, qkv_width()});
    r.tables = declare_tables(a, b, s, per_token);
    return r;
  }

  // x (B*S, H) normed input -> out (B*S, H). positions: I64 (B, S) or NULL for 0..S-1.
  void forward(const sdk::Ops& ops, int64_t b, int64_t s, const msw_tensor* positions, const msw_tensor& x,
               const Params& p, const Saved& sv, Arena& ws, const msw_tensor& out) const {
    check_window(s);
    const uint64_t mark = ws.mark();
    ForwardScratch sc = declare_forward(ws, b, s, positions != nullptr);
    qkv_linear().forward(ops, x, *p.qkv_weight, p.qkv_bias, sc.qkv);
    if (qk_norm) {
      ops.qkv_split_forward(sc.qkv, sv.q_pre, sv.k_pre, sv.v);
      ops.rmsnorm_forward(sv.q_pre, *p.q_norm, qk_norm_eps, sv.q, sv.q_rstd);
      ops.rmsnorm_forward(sv.k_pre, *p.k_norm, qk_norm_eps, sv.k, sv.k_rstd);
    } else {
      ops.qkv_split_forward(sc.qkv, sv.q, sv.k, sv.v);
    }
    fill_tables(ops, positions, sc.tables);
    ops.rope_forward(sv.q, sc.tables.cos, sc.tables.sin, sv.q);
    ops.rope_forward(sv.k, sc.tables.cos, sc.tables.sin, sv.k);
    ops.attention_forward(sv.q, sv.k, sv.v, scale(), sv.ctx, sv.lse, keep_probs ? &sv.probs : nullptr);
    proj_linear().forward(ops, sdk::reshape(sv.ctx, {b * s, q_heads * head_dim}), *p.proj_weight, p.proj_bias, out);
    ws.release(mark);
  }

  // dout (B*S, H) -> dx (B*S, H) written (or added with accumulate_dx); grads (same layout as Params, entries
  // may be NULL) accumulate.
  void backward(const sdk::Ops& ops, int64_t b, int64_t s, const msw_tensor* positions, const msw_tensor& x,
                const Params& p, const Saved& sv, Arena& ws, const msw_tensor& dout, const msw_tensor& dx,
                const Params& g, bool accumulate_dx = false) const {
    const uint64_t mark = ws.mark();
    BackwardScratch sc = declare_backward(ws, b, s, positions != nullptr);
    const msw_tensor ctx2d = sdk::reshape(sv.ctx, {b * s, q_heads * head_dim});
    const msw_tensor dctx2d = sdk::reshape(sc.dctx, {b * s, q_heads * head_dim});
    proj_linear().backward(ops, ctx2d, *p.proj_weight, dout, &dctx2d, g.proj_weight, g.proj_bias);
    ops.attention_backward(sv.q, sv.k, sv.v, sv.ctx, sv.lse, keep_probs ? &sv.probs : nullptr, sc.dctx, scale(), sc.dq,
                           sc.dk, sc.dv);
    fill_tables(ops, positions, sc.tables);
    ops.rope_backward(sc.dq, sc.tables.cos, sc.tables.sin, sc.dq);
    ops.rope_backward(sc.dk, sc.tables.cos, sc.tables.sin, sc.dk);
    if (qk_norm) {
      ops.rmsnorm_backward(sv.q_pre, *p.q_norm, sv.q_rstd, sc.dq, &sc.dq, g.q_norm);
      ops.rmsnorm_backward(sv.k_pre, *p.k_norm, sv.k_rstd, sc.dk, &sc.dk, g.k_norm);
    }
    ops.qkv_split_backward(sc.dq, sc.dk, sc.dv, sc.dqkv);
    qkv_linear().backward(ops, x, *p.qkv_weight, sc.dqkv, &dx, g.qkv_weight, g.qkv_bias, accumulate_dx);
    ws.release(mark);
  }

  double scale() const { return 1.0 / std::sqrt(static_cast<double>(head_dim)); }

 private:
  // The kernels' rule (int(head_dim * partial_rotary_factor)); computed here so memory planning needs no
  // ops table. rope_tables checks the table shape against the kernels' own value.
  int64_t rotary_dim() const {
    return static_cast<int64_t>(static_cast<double>(head_dim) * rope.partial_rotary_factor);
  }

  void fill_tables(const sdk::Ops& ops, const msw_tensor* positions, const Tables& t) const {
    ops.rope_tables(rope, positions, t.cos, t.sin);
  }

  void check_window(int64_t s) const {
    if (sliding_window && s > *sliding_window)
      throw sdk::Error(MSW_STATUS_UNSUPPORTED, "sequence length " + std::to_string(s) + " exceeds the model's sliding_window " +
                                                   std::to_string(*sliding_window) +
                                                   ": sliding-window attention is not supported yet, so sequences must fit in the window; use --max_length <= " +
                                                   std::to_string(*sliding_window));
  }
};

}  // namespace megaswift::nn
