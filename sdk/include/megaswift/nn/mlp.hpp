// The MLP of a GPT decoder (Megatron-Core's MLP): fc1 (column-parallel; [gate | up] fused for a gated MLP),
// the activation step, fc2 (row-parallel). Input: the normed hidden state (T, H); output (T, H) before the
// residual add. Saved for backward: the fc1 output and the activation (fc2's input).
//
// HF names are Llama's (gate_proj, up_proj, down_proj; a plain MLP maps up_proj and down_proj); a family whose
// checkpoints name them otherwise names its own MLP module in the layer spec.
//
// The activation step is virtual, so a plugin whose activation the ops table lacks (Gemma's GeGLU:
// gelu_tanh(gate) * up) subclasses Mlp, overrides activation_forward/activation_backward (e.g. with an op it
// registers through msw_host_api.register_op) and names the subclass in its layer spec.
#pragma once

#include <megaswift/nn/layer_spec.hpp>
#include <megaswift/nn/linear.hpp>

#include <string>

namespace megaswift::nn {

class Mlp : public Module {
 public:
  Mlp(ModuleContext& c, const ModelSpec&) {
    const TransformerConfig& cfg = c.config();
    hidden_ = cfg.hidden_size;
    ffn_ = cfg.ffn_hidden_size;
    act_ = c.act_dtype();
    gated_ = cfg.gated_linear_unit;
    activation_ = cfg.activation_func;
    const int64_t H = hidden_, F = ffn_;
    if (gated_) {
      fc1_weight_ = c.matrix(c.megatron("mlp.linear_fc1.weight"), {2 * F, H}, MSW_TP_GLU, 0, c.init_std(), MSW_HF_GLU,
                             {c.hf("mlp.gate_proj.weight"), c.hf("mlp.up_proj.weight")}, {{F, H}, {F, H}});
      if (cfg.add_bias_linear)
        fc1_bias_ = c.vector(c.megatron("mlp.linear_fc1.bias"), 2 * F, MSW_TP_GLU, MSW_INIT_ZEROS, MSW_HF_GLU,
                             {c.hf("mlp.gate_proj.bias"), c.hf("mlp.up_proj.bias")}, {{F}, {F}});
    } else {
      fc1_weight_ = c.matrix(c.megatron("mlp.linear_fc1.weight"), {F, H}, MSW_TP_CONTIGUOUS, 0, c.init_std(),
                             MSW_HF_IDENTITY, {c.hf("mlp.up_proj.weight")}, {{F, H}});
      if (cfg.add_bias_linear)
        fc1_bias_ = c.vector(c.megatron("mlp.linear_fc1.bias"), F, MSW_TP_CONTIGUOUS, MSW_INIT_ZEROS, MSW_HF_IDENTITY,
                             {c.hf("mlp.up_proj.bias")}, {{F}});
    }
    fc2_weight_ = c.matrix(c.megatron("mlp.linear_fc2.weight"), {H, F}, MSW_TP_CONTIGUOUS, 1, c.output_init_std(),
                           MSW_HF_IDENTITY, {c.hf("mlp.down_proj.weight")}, {{H, F}});
    if (cfg.add_bias_linear)
      fc2_bias_ = c.vector(c.megatron("mlp.linear_fc2.bias"), H, MSW_TP_REPLICATED, MSW_INIT_ZEROS, MSW_HF_IDENTITY,
                           {c.hf("mlp.down_proj.bias")}, {{H}});
  }

  bool gated() const { return gated_; }
  int64_t ffn() const { return ffn_; }
  int64_t fc1_width() const { return gated_ ? 2 * ffn_ : ffn_; }
  const std::string& activation() const { return activation_; }

  uint64_t saved_bytes(const Geometry& g) const override {
    return planned_bytes([&](Arena& a) { declare_saved(a, g); });
  }
  uint64_t workspace_bytes(const Geometry& g) const override {
    const uint64_t act = activation_workspace_bytes(g);
    return std::max(act, planned_bytes([&](Arena& a) {
                      declare_backward(a, g);
                      a.reserve(act);
                    }));
  }

  void forward(const Step& st, Arena& saved, Arena& ws, const msw_tensor& x, const msw_tensor& y) const override {
    const Saved sv = declare_saved(saved, st.geo);
    const Params& p = st.params;
    fc1().forward(st.ops, x, p[fc1_weight_], p.opt(fc1_bias_), sv.fc1);
    activation_forward(st, ws, sv.fc1, sv.act);
    fc2().forward(st.ops, sv.act, p[fc2_weight_], p.opt(fc2_bias_), y);
  }

  void backward(const Step& st, Arena& saved, Arena& ws, const msw_tensor& x, const msw_tensor& dy, const msw_tensor& dx,
                bool accumulate_dx) const override {
    const Saved sv = declare_saved(saved, st.geo);
    const Params& p = st.params;
    const uint64_t mark = ws.mark();
    const Backward sc = declare_backward(ws, st.geo);
    fc2().backward(st.ops, sv.act, p[fc2_weight_], dy, &sc.dact, p.grad(fc2_weight_), p.grad(fc2_bias_));
    activation_backward(st, ws, sv.fc1, sc.dact, sc.dfc1);
    fc1().backward(st.ops, x, p[fc1_weight_], sc.dfc1, &dx, p.grad(fc1_weight_), p.grad(fc1_bias_), accumulate_dx);
    ws.release(mark);
  }

 protected:
  // The activation step: act (T, F) written from the fc1 output (T, fc1_width()), which holds [gate | up]
  // per row for a gated MLP. The default runs silu-gated (SwiGLU) and plain gelu / gelu_tanh with the ops
  // table; gated GELU has no op there, so a plugin overrides this pair.
  virtual void activation_forward(const Step& st, Arena&, const msw_tensor& fc1_out, const msw_tensor& act) const {
    if (gated_ && activation_ == "silu") return st.ops.swiglu_forward(fc1_out, act);
    if (!gated_ && activation_ != "silu") return st.ops.gelu_forward(fc1_out, act, gelu_approximation());
    refuse();
  }
  // dfc1 (T, fc1_width()) written from dact (T, F); fc1_out is the forward's input of the step.
  virtual void activation_backward(const Step& st, Arena&, const msw_tensor& fc1_out, const msw_tensor& dact,
                                   const msw_tensor& dfc1) const {
    if (gated_ && activation_ == "silu") return st.ops.swiglu_backward(fc1_out, dact, dfc1);
    if (!gated_ && activation_ != "silu") return st.ops.gelu_backward(fc1_out, dact, dfc1, gelu_approximation());
    refuse();
  }
  // Scratch the activation step takes (an override that needs some says how much).
  virtual uint64_t activation_workspace_bytes(const Geometry&) const { return 0; }

  struct Saved {
    msw_tensor fc1{};  // (T, fc1_width)
    msw_tensor act{};  // (T, F)
  };
  struct Backward {
    msw_tensor dact{}, dfc1{};
  };
  Saved declare_saved(Arena& a, const Geometry& g) const {
    return {a.take(act_, {g.t(), fc1_width()}), a.take(act_, {g.t(), ffn_})};
  }
  Backward declare_backward(Arena& a, const Geometry& g) const {
    return {a.take(act_, {g.t(), ffn_}), a.take(act_, {g.t(), fc1_width()})};
  }

  Linear fc1() const { return {hidden_, fc1_width(), fc1_bias_ != kNoParam, TpRole::column}; }
  Linear fc2() const { return {ffn_, hidden_, fc2_bias_ != kNoParam, TpRole::row}; }

 private:
  msw_gelu_approximation gelu_approximation() const { return activation_ == "gelu_tanh" ? MSW_GELU_TANH : MSW_GELU_EXACT; }
  [[noreturn]] void refuse() const {
    throw sdk::Error(MSW_STATUS_UNSUPPORTED,
                     std::string(gated_ ? "gated " : "") + activation_ + " MLP: the ops table has no op for it; a plugin " +
                         "provides it by subclassing nn::Mlp, overriding activation_forward/activation_backward (for "
                         "example with an op registered through msw_host_api.register_op) and naming the subclass in "
                         "its layer spec (spec.mlp)");
  }

  int64_t hidden_ = 0, ffn_ = 0;
  int32_t act_ = MSW_DTYPE_F32;  // fc1's output, the activation and their gradients
  bool gated_ = true;
  std::string activation_;
  ParamId fc1_weight_ = kNoParam, fc1_bias_ = kNoParam, fc2_weight_ = kNoParam, fc2_bias_ = kNoParam;
};

}  // namespace megaswift::nn
