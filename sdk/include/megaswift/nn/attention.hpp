// Self-attention of a GPT decoder (Megatron-Core's SelfAttention with its submodules): fused QKV projection
// (optional bias), per-head q/k norms (qk_layernorm, Qwen3), the position embedding (RoPE), causal GQA
// attention with float32 softmax through ops.attention_forward/backward, and the output projection.
// Input: the normed hidden state (T, H) in activation order; output: the projection (T, H), before the
// residual add.
//
// Core attention runs in the SBHD layout, or THD for a packed batch (sequences of cu_seqlens). It keeps no
// probabilities: backward recomputes them from the log-sum-exp (flash semantics), so selective recompute
// costs nothing extra here.
//
// Saved for backward: q and k after RoPE, v, the attention output and its log-sum-exp, and with q/k norms
// the pre-norm q/k and the norms' saved tensors. Workspace: the QKV projection and the RoPE tables in
// forward; the gradients in backward.
#pragma once

#include <megaswift/nn/layer_spec.hpp>
#include <megaswift/nn/linear.hpp>
#include <megaswift/nn/rope.hpp>

#include <cmath>
#include <memory>
#include <optional>
#include <string>

namespace megaswift::nn {

class SelfAttention : public Module {
 public:
  SelfAttention(ModuleContext& c, const ModelSpec& spec) {
    const TransformerConfig& cfg = c.config();
    hidden_ = cfg.hidden_size;
    q_heads_ = cfg.num_attention_heads;
    kv_heads_ = cfg.num_query_groups;
    head_dim_ = cfg.kv_channels;
    sliding_window_ = cfg.sliding_window;
    act_ = c.act_dtype();
    const int64_t H = hidden_, D = head_dim_, qw = q_heads_ * D, kvw = kv_heads_ * D;
    qkv_weight_ = c.matrix(c.megatron("self_attention.linear_qkv.weight"), {qkv_width(), H}, MSW_TP_CONTIGUOUS, 0,
                           c.init_std(), MSW_HF_QKV,
                           {c.hf("self_attn.q_proj.weight"), c.hf("self_attn.k_proj.weight"), c.hf("self_attn.v_proj.weight")},
                           {{qw, H}, {kvw, H}, {kvw, H}});
    if (cfg.add_qkv_bias)
      qkv_bias_ = c.vector(c.megatron("self_attention.linear_qkv.bias"), qkv_width(), MSW_TP_CONTIGUOUS, MSW_INIT_ZEROS,
                           MSW_HF_QKV,
                           {c.hf("self_attn.q_proj.bias"), c.hf("self_attn.k_proj.bias"), c.hf("self_attn.v_proj.bias")},
                           {{qw}, {kvw}, {kvw}});
    if (cfg.qk_layernorm) {
      q_norm_ = spec.q_layernorm(c, {D, q_heads_, cfg.norm_epsilon, c.megatron("self_attention.q_layernorm.weight"),
                                     c.hf("self_attn.q_norm.weight")});
      k_norm_ = spec.k_layernorm(c, {D, kv_heads_, cfg.norm_epsilon, c.megatron("self_attention.k_layernorm.weight"),
                                     c.hf("self_attn.k_norm.weight")});
    }
    proj_weight_ = c.matrix(c.megatron("self_attention.linear_proj.weight"), {H, qw}, MSW_TP_CONTIGUOUS, 1,
                            c.output_init_std(), MSW_HF_IDENTITY, {c.hf("self_attn.o_proj.weight")}, {{H, qw}});
    if (cfg.add_bias_linear)
      proj_bias_ = c.vector(c.megatron("self_attention.linear_proj.bias"), H, MSW_TP_REPLICATED, MSW_INIT_ZEROS,
                            MSW_HF_IDENTITY, {c.hf("self_attn.o_proj.bias")}, {{H}});
    rope_ = spec.position_embedding(c);
  }

  int64_t qkv_width() const { return (q_heads_ + 2 * kv_heads_) * head_dim_; }
  // The softmax scale of q.k; Gemma 2-style plugins override it (query_pre_attn_scalar).
  virtual double softmax_scale() const { return 1.0 / std::sqrt(static_cast<double>(head_dim_)); }

  uint64_t saved_bytes(const Geometry& g) const override {
    return planned_bytes([&](Arena& a) { declare_saved(a, g); });
  }
  uint64_t workspace_bytes(const Geometry& g) const override {
    const uint64_t rope = rope_->workspace_bytes(g);
    const uint64_t norms = q_norm_ ? std::max(q_norm_->workspace_bytes(g), k_norm_->workspace_bytes(g)) : 0;
    const uint64_t fwd = planned_bytes([&](Arena& a) {
      declare_forward(a, g);
      a.reserve(std::max(rope, norms));
    });
    const uint64_t bwd = planned_bytes([&](Arena& a) {
      declare_backward(a, g);
      a.reserve(std::max(rope, norms));
    });
    return std::max(fwd, bwd);
  }

  void forward(const Step& st, Arena& saved, Arena& ws, const msw_tensor& x, const msw_tensor& y) const override {
    check_window(st.geo);
    const Saved sv = declare_saved(saved, st.geo);
    const uint64_t mark = ws.mark();
    const Forward sc = declare_forward(ws, st.geo);
    const Params& p = st.params;
    project(st, sv, sc, ws, x);
    msw_attention_args a = attention_args(st.geo, sv);
    st.ops.attention_forward(a);
    proj().forward(st.ops, rows_view(sv.ctx, st.geo.t(), q_heads_ * head_dim_), p[proj_weight_], p.opt(proj_bias_), y);
    ws.release(mark);
  }

  // The cache of a row: its keys (capacity, Hkv, D) then its values, fp32 whatever the activation dtype (the
  // KV-cache op appends 16-bit new keys to an fp32 cache exactly).
  uint64_t kv_bytes_per_token() const override {
    return 2 * static_cast<uint64_t>(kv_heads_ * head_dim_) * sizeof(float);
  }

  // Decoding: the new tokens' q, k, v as in forward (RoPE at the positions the host passes), their keys and
  // values appended to the cache, their queries attending over the row (ops.attention_kvcache_forward).
  void decode(const Step& st, Arena& saved, Arena& ws, const KvCache& cache, const msw_tensor& x,
              const msw_tensor& y) const override {
    check_decode_window(cache);
    const Saved sv = declare_saved(saved, st.geo);  // forward's tensors, transient here
    const uint64_t mark = ws.mark();
    const Forward sc = declare_forward(ws, st.geo);
    const Params& p = st.params;
    project(st, sv, sc, ws, x);
    msw_attention_kvcache_args a{};
    a.layout = st.geo.packed ? MSW_ATTN_THD : MSW_ATTN_SBHD;
    a.q = in_layout(sv.q, st.geo);
    a.k_new = in_layout(sv.k, st.geo);
    a.v_new = in_layout(sv.v, st.geo);
    a.out = in_layout(sv.ctx, st.geo);
    const uint64_t half_row = static_cast<uint64_t>(cache.capacity * kv_heads_ * head_dim_) * sizeof(float);
    a.k_cache = cache.f32_at(0, {cache.rows, cache.capacity, kv_heads_, head_dim_});
    a.k_cache.strides[0] = 2 * cache.capacity * kv_heads_ * head_dim_;
    a.v_cache = a.k_cache;
    a.v_cache.byte_offset += half_row;
    a.cache_seqlens = cache.cache_seqlens;
    if (st.geo.packed) {
      a.cu_seqlens_q = st.geo.cu_seqlens;
      a.max_seqlen_q = st.geo.max_seqlen;
    }
    a.scale = softmax_scale();
    st.ops.attention_kvcache_forward(a);
    proj().forward(st.ops, rows_view(sv.ctx, st.geo.t(), q_heads_ * head_dim_), p[proj_weight_], p.opt(proj_bias_), y);
    ws.release(mark);
  }

  void backward(const Step& st, Arena& saved, Arena& ws, const msw_tensor& x, const msw_tensor& dy, const msw_tensor& dx,
                bool accumulate_dx) const override {
    const Saved sv = declare_saved(saved, st.geo);
    const uint64_t mark = ws.mark();
    const Backward sc = declare_backward(ws, st.geo);
    const Params& p = st.params;
    const int64_t t = st.geo.t();
    const msw_tensor dctx = rows_view(sc.dctx, t, q_heads_ * head_dim_);
    proj().backward(st.ops, rows_view(sv.ctx, t, q_heads_ * head_dim_), p[proj_weight_], dy, &dctx,
                    p.grad(proj_weight_), p.grad(proj_bias_));
    msw_attention_args a = attention_args(st.geo, sv);
    a.dout = in_layout(sc.dctx, st.geo);  // gradients in the layout of q, k, v
    a.dq = in_layout(sc.dq, st.geo);
    a.dk = in_layout(sc.dk, st.geo);
    a.dv = in_layout(sc.dv, st.geo);
    st.ops.attention_backward(a);
    if (q_norm_) {
      rope_->backward(st, ws, sc.dq, sc.dk);
      Arena qn = sv.q_norm, kn = sv.k_norm;
      q_norm_->backward(st, qn, ws, sv.q_pre, sc.dq, sc.dq_pre, false);
      k_norm_->backward(st, kn, ws, sv.k_pre, sc.dk, sc.dk_pre, false);
      st.ops.qkv_split_backward(sc.dq_pre, sc.dk_pre, sc.dv, sc.dqkv);
    } else {
      rope_->split_backward(st, ws, sc.dq, sc.dk, sc.dv, sc.dqkv);
    }
    qkv().backward(st.ops, x, p[qkv_weight_], sc.dqkv, &dx, p.grad(qkv_weight_), p.grad(qkv_bias_), accumulate_dx);
    ws.release(mark);
  }

 protected:
  struct Saved {
    msw_tensor q{}, k{}, v{};      // (T, heads, D), q and k after RoPE
    msw_tensor q_pre{}, k_pre{};   // q/k norm inputs (T, heads, D)
    Arena q_norm, k_norm;          // the q/k norms' saved regions
    msw_tensor ctx{};              // attention output (T, Hq, D)
    msw_tensor lse{};              // (T * Hq): (S, B, Hq) for SBHD, (T, Hq) for THD
  };
  struct Forward {
    msw_tensor qkv{};
  };
  struct Backward {
    msw_tensor dctx{}, dq{}, dk{}, dv{}, dq_pre{}, dk_pre{}, dqkv{};
  };

  // q, k, v of x (T, H): the fused projection, split, q/k norms, then RoPE on q and k (with no q/k norms, the
  // position embedding splits and rotates in one pass).
  void project(const Step& st, const Saved& sv, const Forward& sc, Arena& ws, const msw_tensor& x) const {
    const Params& p = st.params;
    qkv().forward(st.ops, x, p[qkv_weight_], p.opt(qkv_bias_), sc.qkv);
    if (q_norm_) {
      st.ops.qkv_split_forward(sc.qkv, sv.q_pre, sv.k_pre, sv.v);
      Arena qn = sv.q_norm, kn = sv.k_norm;
      q_norm_->forward(st, qn, ws, sv.q_pre, sv.q);
      k_norm_->forward(st, kn, ws, sv.k_pre, sv.k);
      rope_->forward(st, ws, sv.q, sv.k);
    } else {
      rope_->split_forward(st, ws, sc.qkv, sv.q, sv.k, sv.v);
    }
  }

  Linear qkv() const { return {hidden_, qkv_width(), qkv_bias_ != kNoParam, TpRole::column}; }
  Linear proj() const { return {q_heads_ * head_dim_, hidden_, proj_bias_ != kNoParam, TpRole::row}; }

  Saved declare_saved(Arena& a, const Geometry& g) const {
    const int64_t t = g.t();
    Saved r;
    r.q = a.take(act_, {t, q_heads_, head_dim_});
    r.k = a.take(act_, {t, kv_heads_, head_dim_});
    r.v = a.take(act_, {t, kv_heads_, head_dim_});
    if (q_norm_) {
      r.q_pre = a.take(act_, {t, q_heads_, head_dim_});
      r.k_pre = a.take(act_, {t, kv_heads_, head_dim_});
      r.q_norm = a.sub(q_norm_->saved_bytes(g), "q_layernorm saved");
      r.k_norm = a.sub(k_norm_->saved_bytes(g), "k_layernorm saved");
    }
    r.ctx = a.take(act_, {t, q_heads_, head_dim_});
    r.lse = a.f32({t * q_heads_});
    return r;
  }
  Forward declare_forward(Arena& a, const Geometry& g) const { return {a.take(act_, {g.t(), qkv_width()})}; }
  Backward declare_backward(Arena& a, const Geometry& g) const {
    const int64_t t = g.t();
    Backward r;
    r.dctx = a.take(act_, {t, q_heads_, head_dim_});
    r.dq = a.take(act_, {t, q_heads_, head_dim_});
    r.dk = a.take(act_, {t, kv_heads_, head_dim_});
    r.dv = a.take(act_, {t, kv_heads_, head_dim_});
    if (q_norm_) {
      r.dq_pre = a.take(act_, {t, q_heads_, head_dim_});
      r.dk_pre = a.take(act_, {t, kv_heads_, head_dim_});
    }
    r.dqkv = a.take(act_, {t, qkv_width()});
    return r;
  }

  // (T, heads, D) in the attention layout: as it is for THD, viewed as (S, B, heads, D) for SBHD.
  static msw_tensor in_layout(const msw_tensor& t, const Geometry& g) {
    return g.packed ? t : sdk::reshape(t, {g.s, g.b, t.shape[1], t.shape[2]});
  }

  msw_attention_args attention_args(const Geometry& g, const Saved& sv) const {
    msw_attention_args a{};
    a.causal = 1;
    a.scale = softmax_scale();
    a.layout = g.packed ? MSW_ATTN_THD : MSW_ATTN_SBHD;
    a.q = in_layout(sv.q, g);
    a.k = in_layout(sv.k, g);
    a.v = in_layout(sv.v, g);
    a.out = in_layout(sv.ctx, g);
    if (g.packed) {
      a.lse = sdk::reshape(sv.lse, {g.t(), q_heads_});
      a.cu_seqlens_q = g.cu_seqlens;  // cu_seqlens_kv absent: the same
    } else {
      a.lse = sdk::reshape(sv.lse, {g.s, g.b, q_heads_});
    }
    a.max_seqlen_q = g.longest();
    a.max_seqlen_kv = g.longest();
    return a;
  }

  void check_window(const Geometry& g) const {
    if (sliding_window_ && g.longest() > *sliding_window_)
      throw sdk::Error(MSW_STATUS_UNSUPPORTED,
                       "sequence length " + std::to_string(g.longest()) + " exceeds the model's sliding_window " +
                           std::to_string(*sliding_window_) +
                           ": this decoder attends over the whole causal context, which equals the windowed "
                           "attention only for sequences that fit in the window (per-layer window rules such as "
                           "Qwen2's max_window_layers are not mapped to the ops' window_left); use --max_length <= " +
                           std::to_string(*sliding_window_));
  }

  // The cache holds every token a row attends to, so a window smaller than the cache would change the
  // result (the same rule as check_window for training).
  void check_decode_window(const KvCache& cache) const {
    if (sliding_window_ && cache.capacity > *sliding_window_)
      throw sdk::Error(MSW_STATUS_UNSUPPORTED,
                       "the KV cache holds up to " + std::to_string(cache.capacity) +
                           " tokens per row, more than the model's sliding_window " + std::to_string(*sliding_window_) +
                           ": this decoder attends over the whole causal context; keep the prompt plus "
                           "--max_new_tokens within " + std::to_string(*sliding_window_) + " tokens");
  }

  int64_t hidden_ = 0, q_heads_ = 0, kv_heads_ = 0, head_dim_ = 0;
  int32_t act_ = MSW_DTYPE_F32;  // activations (q, k, v, the output, their gradients); lse is fp32 always
  std::optional<int64_t> sliding_window_;
  ParamId qkv_weight_ = kNoParam, qkv_bias_ = kNoParam, proj_weight_ = kNoParam, proj_bias_ = kNoParam;
  std::unique_ptr<Norm> q_norm_, k_norm_;
  std::unique_ptr<PositionEmbedding> rope_;
};

}  // namespace megaswift::nn
