// One decoder layer (Megatron-Core's TransformerLayer): the pre-norm residual block
//
//     h = x + self_attention(input_layernorm(x))
//     y = h + mlp(pre_mlp_layernorm(h))
//
// with its four submodules built from the layer spec. Another order (post-norm, sandwich norms) is another
// Module named in spec.layer; it may reuse the submodule factories the same way.
//
// Saved for backward: the input of self-attention, h, the input of the MLP, and each submodule's saved
// region. The layer's input x is the host's (it passes it again to backward).
#pragma once

#include <megaswift/nn/layer_spec.hpp>

#include <algorithm>
#include <memory>

namespace megaswift::nn {

class TransformerLayer : public Module {
 public:
  TransformerLayer(ModuleContext& c, const ModelSpec& spec) : hidden_(c.config().hidden_size), act_(c.act_dtype()) {
    const TransformerConfig& cfg = c.config();
    // Megatron's TE spec fuses the norms into the next linear, hence their names.
    input_layernorm_ = spec.input_layernorm(c, {hidden_, 1, cfg.norm_epsilon,
                                                c.megatron("self_attention.linear_qkv.layer_norm_weight"),
                                                c.hf("input_layernorm.weight")});
    self_attention_ = spec.self_attention(c, spec);
    pre_mlp_layernorm_ = spec.pre_mlp_layernorm(c, {hidden_, 1, cfg.norm_epsilon,
                                                    c.megatron("mlp.linear_fc1.layer_norm_weight"),
                                                    c.hf("post_attention_layernorm.weight")});
    mlp_ = spec.mlp(c, spec);
  }

  uint64_t saved_bytes(const Geometry& g) const override {
    return planned_bytes([&](Arena& a) { declare_saved(a, g); });
  }
  uint64_t workspace_bytes(const Geometry& g) const override {
    const uint64_t sub = std::max({input_layernorm_->workspace_bytes(g), self_attention_->workspace_bytes(g),
                                   pre_mlp_layernorm_->workspace_bytes(g), mlp_->workspace_bytes(g)});
    const uint64_t fwd = planned_bytes([&](Arena& a) {
      a.take(act_, {g.t(), hidden_});  // a sublayer's output
      a.reserve(sub);
    });
    const uint64_t bwd = planned_bytes([&](Arena& a) {
      declare_backward(a, g);
      a.reserve(sub);
    });
    return std::max(fwd, bwd);
  }

  void forward(const Step& st, Arena& saved, Arena& ws, const msw_tensor& x, const msw_tensor& y) const override {
    run(st, saved, ws, x, y, nullptr);
  }
  uint64_t kv_bytes_per_token() const override { return self_attention_->kv_bytes_per_token(); }
  // The forward with self-attention decoding over the cache; what forward would save is transient.
  void decode(const Step& st, Arena& saved, Arena& ws, const KvCache& cache, const msw_tensor& x,
              const msw_tensor& y) const override {
    run(st, saved, ws, x, y, &cache);
  }

  void backward(const Step& st, Arena& saved, Arena& ws, const msw_tensor& x, const msw_tensor& dy, const msw_tensor& dx,
                bool accumulate_dx) const override {
    Saved sv = declare_saved(saved, st.geo);
    const uint64_t mark = ws.mark();
    const Backward sc = declare_backward(ws, st.geo);
    mlp_->backward(st, sv.mlp, ws, sv.ln2_out, dy, sc.d_ln2, false);
    if (dx.data == dy.data && !accumulate_dx) {
      // dx over dy (the host's one gradient buffer): dy is free once the MLP has read it, so the residual paths
      // ride on the norms' backward, which adds its dx into what the buffer holds: dh = dy + norm2'(d_ln2) in place,
      // then dx = dh + norm1'(d_ln1) in place. Two passes over the hidden states fewer than the adds below.
      pre_mlp_layernorm_->backward(st, sv.pre_mlp_layernorm, ws, sv.h, sc.d_ln2, dy, true);
      self_attention_->backward(st, sv.self_attention, ws, sv.ln1_out, dy, sc.d_ln1, false);
      input_layernorm_->backward(st, sv.input_layernorm, ws, x, sc.d_ln1, dx, true);
    } else {
      pre_mlp_layernorm_->backward(st, sv.pre_mlp_layernorm, ws, sv.h, sc.d_ln2, sc.dh, false);
      st.ops.accumulate(dy, sc.dh);  // the residual path; dy is not read after this, so dx may alias it
      self_attention_->backward(st, sv.self_attention, ws, sv.ln1_out, sc.dh, sc.d_ln1, false);
      input_layernorm_->backward(st, sv.input_layernorm, ws, x, sc.d_ln1, dx, accumulate_dx);
      st.ops.accumulate(sc.dh, dx);
    }
    ws.release(mark);
  }

 protected:
  // forward, or decode when `cache` is given (only self-attention differs).
  void run(const Step& st, Arena& saved, Arena& ws, const msw_tensor& x, const msw_tensor& y, const KvCache* cache) const {
    Saved sv = declare_saved(saved, st.geo);
    const uint64_t mark = ws.mark();
    const msw_tensor out = ws.take(act_, {st.geo.t(), hidden_});
    input_layernorm_->forward(st, sv.input_layernorm, ws, x, sv.ln1_out);
    if (cache)
      self_attention_->decode(st, sv.self_attention, ws, *cache, sv.ln1_out, out);
    else
      self_attention_->forward(st, sv.self_attention, ws, sv.ln1_out, out);
    pre_mlp_layernorm_->forward_residual(st, sv.pre_mlp_layernorm, ws, x, out, sv.h, sv.ln2_out);  // h = x + out
    mlp_->forward(st, sv.mlp, ws, sv.ln2_out, out);
    st.ops.add(sv.h, out, y);
    ws.release(mark);
  }

  struct Saved {
    msw_tensor ln1_out{}, h{}, ln2_out{};  // (T, H)
    Arena input_layernorm, self_attention, pre_mlp_layernorm, mlp;
  };
  struct Backward {
    msw_tensor d_ln2{}, dh{}, d_ln1{};
  };
  Saved declare_saved(Arena& a, const Geometry& g) const {
    const int64_t t = g.t();
    Saved s;
    s.ln1_out = a.take(act_, {t, hidden_});
    s.h = a.take(act_, {t, hidden_});
    s.ln2_out = a.take(act_, {t, hidden_});
    s.input_layernorm = a.sub(input_layernorm_->saved_bytes(g), "input_layernorm saved");
    s.self_attention = a.sub(self_attention_->saved_bytes(g), "self_attention saved");
    s.pre_mlp_layernorm = a.sub(pre_mlp_layernorm_->saved_bytes(g), "pre_mlp_layernorm saved");
    s.mlp = a.sub(mlp_->saved_bytes(g), "mlp saved");
    return s;
  }
  Backward declare_backward(Arena& a, const Geometry& g) const {
    return {a.take(act_, {g.t(), hidden_}), a.take(act_, {g.t(), hidden_}), a.take(act_, {g.t(), hidden_})};
  }

  int64_t hidden_;
  int32_t act_;  // the activation dtype: hidden states, residual sums and their gradients
  std::unique_ptr<Norm> input_layernorm_;
  std::unique_ptr<Module> self_attention_;
  std::unique_ptr<Norm> pre_mlp_layernorm_;
  std::unique_ptr<Module> mlp_;
};

}  // namespace megaswift::nn
