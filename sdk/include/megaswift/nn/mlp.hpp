// MLP sublayer: fc1 (column-parallel), SwiGLU over Megatron's fused [gate | up] output or GELU, fc2
// (row-parallel). Input (T, H) normed hidden state -> output (T, H) before the residual add.
// Kept for backward: the fc1 output and the activation (fc2's input).
#pragma once

#include <megaswift/nn/arena.hpp>
#include <megaswift/nn/linear.hpp>
#include <megaswift/sdk/ops.hpp>

namespace megaswift::nn {

enum class MlpActivation { swiglu, gelu, gelu_tanh };

struct Mlp {
  int64_t hidden = 0;
  int64_t ffn = 0;
  bool bias = false;
  MlpActivation activation = MlpActivation::swiglu;

  struct Params {
    const msw_tensor* fc1_weight = nullptr;
    const msw_tensor* fc1_bias = nullptr;
    const msw_tensor* fc2_weight = nullptr;
    const msw_tensor* fc2_bias = nullptr;
  };
  struct Saved {
    msw_tensor fc1{};  // (T, 2F) gated, (T, F) otherwise
    msw_tensor act{};  // (T, F)
  };
  struct BackwardScratch {
    msw_tensor dact{}, dfc1{};
  };

  bool gated() const { return activation == MlpActivation::swiglu; }
  int64_t fc1_width() const { return gated() ? 2 * ffn : ffn; }
  Linear fc1() const { return {hidden, fc1_width(), bias, TpRole::column}; }
  Linear fc2() const { return {ffn, hidden, bias, TpRole::row}; }

  Saved declare_saved(Arena& a, int64_t rows) const { return {a.f32({rows, fc1_width()}), a.f32({rows, ffn})}; }
  BackwardScratch declare_backward(Arena& a, int64_t rows) const {
    BackwardScratch r;
    r.dact = a.f32({rows, ffn});
    r.dfc1 = a.f32({rows, fc1_width()});
    return r;
  }

  void forward(const sdk::Ops& ops, const msw_tensor& x, const Params& p, const Saved& sv, const msw_tensor& out) const {
    fc1().forward(ops, x, *p.fc1_weight, p.fc1_bias, sv.fc1);
    switch (activation) {
      case MlpActivation::swiglu: ops.swiglu_forward(sv.fc1, sv.act); break;
      case MlpActivation::gelu: ops.gelu_forward(sv.fc1, sv.act, MSW_GELU_EXACT); break;
      case MlpActivation::gelu_tanh: ops.gelu_forward(sv.fc1, sv.act, MSW_GELU_TANH); break;
    }
    fc2().forward(ops, sv.act, *p.fc2_weight, p.fc2_bias, out);
  }

  // dx written (or added with accumulate_dx); grads accumulate.
  void backward(const sdk::Ops& ops, const msw_tensor& x, const Params& p, const Saved& sv, Arena& ws,
                const msw_tensor& dout, const msw_tensor& dx, const Params& g, bool accumulate_dx = false) const {
    const uint64_t mark = ws.mark();
    BackwardScratch sc = declare_backward(ws, sv.act.shape[0]);
    fc2().backward(ops, sv.act, *p.fc2_weight, dout, &sc.dact, g.fc2_weight, g.fc2_bias);
    switch (activation) {
      case MlpActivation::swiglu: ops.swiglu_backward(sv.fc1, sc.dact, sc.dfc1); break;
      case MlpActivation::gelu: ops.gelu_backward(sv.fc1, sc.dact, sc.dfc1, MSW_GELU_EXACT); break;
      case MlpActivation::gelu_tanh: ops.gelu_backward(sv.fc1, sc.dact, sc.dfc1, MSW_GELU_TANH); break;
    }
    fc1().backward(ops, x, *p.fc1_weight, sc.dfc1, &dx, g.fc1_weight, g.fc1_bias, accumulate_dx);
    ws.release(mark);
  }
};

}  // namespace megaswift::nn
