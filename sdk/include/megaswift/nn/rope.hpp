// Position embeddings applied inside self-attention: the interface, and rotary embedding (RoPE) with every
// msw_rope_scaling variant of the config.
//
// Positions: without position ids every batch row holds positions 0..S-1, so the tables have one row per
// position shared by the B rows of the activation order (rows_per_position = B). With position ids, and
// for packed sequences (positions restart at 0 in each sequence: position_ids given, or derived from
// cu_seqlens), the tables have one row per token.
#pragma once

#include <megaswift/nn/module.hpp>

#include <string>

namespace megaswift::nn {

class PositionEmbedding {
 public:
  virtual ~PositionEmbedding() = default;
  virtual uint64_t workspace_bytes(const Geometry& g) const = 0;
  // Rotates q (T, Hq, D) and k (T, Hk, D) in place.
  virtual void forward(const Step& step, Arena& ws, const msw_tensor& q, const msw_tensor& k) const = 0;
  // Rotates their gradients back in place.
  virtual void backward(const Step& step, Arena& ws, const msw_tensor& dq, const msw_tensor& dk) const = 0;
  // The QKV split with the embedding applied: q, k, v out of the fused projection output, q and k rotated. The
  // default splits, then rotates in place; an embedding whose rotation rides on the split does both in one pass.
  virtual void split_forward(const Step& step, Arena& ws, const msw_tensor& qkv, const msw_tensor& q,
                             const msw_tensor& k, const msw_tensor& v) const {
    step.ops.qkv_split_forward(qkv, q, k, v);
    forward(step, ws, q, k);
  }
  // Its backward: dqkv (written) from dq, dk, dv; dq and dk may be overwritten.
  virtual void split_backward(const Step& step, Arena& ws, const msw_tensor& dq, const msw_tensor& dk,
                              const msw_tensor& dv, const msw_tensor& dqkv) const {
    backward(step, ws, dq, dk);
    step.ops.qkv_split_backward(dq, dk, dv, dqkv);
  }
};

// positions[t] = t - cu_seqlens[i] for token t of sequence i. The nn layer computes it on the host, so only
// for CPU tensors; a device batch must carry position_ids.
inline void positions_from_cu_seqlens(const msw_tensor& cu_seqlens, const msw_tensor& out) {
  if (cu_seqlens.device.type != MSW_DEVICE_CPU)
    throw sdk::Error(MSW_STATUS_UNSUPPORTED, "a packed batch without position_ids: the positions are derived from "
                                             "cu_seqlens on CPU tensors only; pass position_ids (restarting at 0 in "
                                             "each sequence) for a batch on another device");
  sdk::require_cpu_contiguous(cu_seqlens, "cu_seqlens");
  const int32_t* cu = sdk::data_as<int32_t>(cu_seqlens, MSW_DTYPE_I32, "cu_seqlens");
  int64_t* p = sdk::data_as<int64_t>(out, MSW_DTYPE_I64, "positions");
  const int64_t n = cu_seqlens.shape[0] - 1, total = msw_tensor_numel(&out);
  if (cu[0] != 0 || cu[n] != total)
    throw sdk::Error(MSW_STATUS_INVALID_ARGUMENT, "cu_seqlens must start at 0 and end at the packed length " +
                                                      std::to_string(total) + ", got " + std::to_string(cu[0]) + " ... " +
                                                      std::to_string(cu[n]));
  for (int64_t i = 0; i < n; ++i) {
    if (cu[i + 1] < cu[i])
      throw sdk::Error(MSW_STATUS_INVALID_ARGUMENT, "cu_seqlens decreases at entry " + std::to_string(i + 1));
    for (int64_t t = cu[i]; t < cu[i + 1]; ++t) p[t] = t - cu[i];
  }
}

class RotaryEmbedding : public PositionEmbedding {
 public:
  explicit RotaryEmbedding(ModuleContext& c) : rope_(rope_config(c.config())) {}

  const msw_rope_config& config() const { return rope_; }

  uint64_t workspace_bytes(const Geometry& g) const override {
    return planned_bytes([&](Arena& a) { declare(a, g); });
  }
  void forward(const Step& st, Arena& ws, const msw_tensor& q, const msw_tensor& k) const override {
    with_tables(st, ws, [&](const Tables& tb) {
      st.ops.rope_forward(q, tb.cos, tb.sin, q, tb.rows_per_position);
      st.ops.rope_forward(k, tb.cos, tb.sin, k, tb.rows_per_position);
    });
  }
  void backward(const Step& st, Arena& ws, const msw_tensor& dq, const msw_tensor& dk) const override {
    with_tables(st, ws, [&](const Tables& tb) {
      st.ops.rope_backward(dq, tb.cos, tb.sin, dq, tb.rows_per_position);
      st.ops.rope_backward(dk, tb.cos, tb.sin, dk, tb.rows_per_position);
    });
  }
  // The rotation rides on the split's move (ABI 2.4): q and k are read and written once instead of three times.
  void split_forward(const Step& st, Arena& ws, const msw_tensor& qkv, const msw_tensor& q, const msw_tensor& k,
                     const msw_tensor& v) const override {
    if (!sdk::Ops::split_carries_rope()) return PositionEmbedding::split_forward(st, ws, qkv, q, k, v);
    with_tables(st, ws, [&](const Tables& tb) {
      const sdk::Ops::SplitRope r{tb.cos, tb.sin, tb.rows_per_position};
      st.ops.qkv_split_forward(qkv, q, k, v, &r);
    });
  }
  void split_backward(const Step& st, Arena& ws, const msw_tensor& dq, const msw_tensor& dk, const msw_tensor& dv,
                      const msw_tensor& dqkv) const override {
    if (!sdk::Ops::split_carries_rope()) return PositionEmbedding::split_backward(st, ws, dq, dk, dv, dqkv);
    with_tables(st, ws, [&](const Tables& tb) {
      const sdk::Ops::SplitRope r{tb.cos, tb.sin, tb.rows_per_position};
      st.ops.qkv_split_backward(dq, dk, dv, dqkv, &r);
    });
  }

  static msw_rope_config rope_config(const TransformerConfig& cfg) {
    const auto& r = cfg.rope_scaling;
    msw_rope_config rc{};
    rc.struct_size = sizeof(msw_rope_config);
    rc.scaling = r.type == "linear"    ? MSW_ROPE_LINEAR
                 : r.type == "dynamic" ? MSW_ROPE_DYNAMIC
                 : r.type == "llama3"  ? MSW_ROPE_LLAMA3
                 : r.type == "yarn"    ? MSW_ROPE_YARN
                                       : MSW_ROPE_NONE;
    rc.theta = cfg.rotary_base;
    rc.head_dim = cfg.kv_channels;
    rc.partial_rotary_factor = cfg.rotary_percent;
    rc.max_position_embeddings = cfg.max_position_embeddings;
    rc.factor = r.factor;
    rc.original_max_position_embeddings = r.original_max_position_embeddings;
    rc.low_freq_factor = r.low_freq_factor;
    rc.high_freq_factor = r.high_freq_factor;
    rc.beta_fast = r.beta_fast;
    rc.beta_slow = r.beta_slow;
    rc.mscale = r.mscale;
    rc.mscale_all_dim = r.mscale_all_dim;
    rc.has_attention_factor = r.attention_factor.has_value();
    rc.attention_factor = r.attention_factor.value_or(0.0);
    rc.truncate = r.truncate;
    return rc;
  }

 private:
  struct Tables {
    msw_tensor positions{}, cos{}, sin{};
    int64_t rows_per_position = 1;
  };

  // The kernels' rule (int(head_dim * partial_rotary_factor)), computed here so memory planning needs no
  // ops table; rope_tables checks the table shape against the kernels' own value.
  int64_t rotary_dim() const { return static_cast<int64_t>(static_cast<double>(rope_.head_dim) * rope_.partial_rotary_factor); }

  // Positions in activation order, when the tables need them: position ids transposed to [S, B] (a view when
  // B = 1), or derived from cu_seqlens. Planning takes the larger case.
  msw_tensor positions(const Step* st, Arena& a, const Geometry& g) const {
    if (!g.per_token_positions) return {};
    const bool given = !msw_tensor_is_absent(&g.position_ids);
    if (!st) {
      if (!given || g.b != 1) a.i64({g.t()});
      return {};
    }
    if (given) return tokens_in_activation_order(st->ops, a, g.position_ids, g);
    const msw_tensor p = a.i64({g.t()});
    positions_from_cu_seqlens(g.cu_seqlens, p);
    return p;
  }
  Tables declare_tables(Arena& a, const Geometry& g) const {
    Tables t;
    const int64_t rows = g.per_token_positions ? g.t() : g.s;
    t.cos = a.f32({rows, rotary_dim() / 2});
    t.sin = a.f32({rows, rotary_dim() / 2});
    t.rows_per_position = g.per_token_positions ? 1 : g.b;
    return t;
  }
  void declare(Arena& a, const Geometry& g) const {
    positions(nullptr, a, g);
    declare_tables(a, g);
  }

  Tables fill(const Step& st, Arena& ws) const {
    const msw_tensor p = positions(&st, ws, st.geo);
    Tables t = declare_tables(ws, st.geo);
    t.positions = p;
    st.ops.rope_tables(rope_, msw_tensor_is_absent(&p) ? nullptr : &p, t.cos, t.sin);
    return t;
  }
  // f(tables) with this step's tables in the workspace, which they leave afterwards.
  template <class F>
  void with_tables(const Step& st, Arena& ws, F&& f) const {
    const uint64_t mark = ws.mark();
    f(fill(st, ws));
    ws.release(mark);
  }

  msw_rope_config rope_;
};

}  // namespace megaswift::nn
