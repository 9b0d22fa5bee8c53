// Language-model head: final norm, output layer (the word embedding when tied), cross-entropy against
// position-aligned labels with ignore index -100. Kept for backward: the normed hidden state, the norm's
// statistics, the logits (turned into their gradient in place during backward) and the log-sum-exp.
#pragma once

#include <megaswift/nn/arena.hpp>
#include <megaswift/nn/linear.hpp>
#include <megaswift/nn/norm.hpp>
#include <megaswift/sdk/ops.hpp>

namespace megaswift::nn {

inline constexpr int64_t kIgnoreIndex = -100;

struct LmHead {
  Norm norm;
  int64_t hidden = 0;
  int64_t vocab = 0;  // padded vocabulary: the rows of the output weight

  struct Params {
    const msw_tensor* norm_weight = nullptr;
    const msw_tensor* norm_bias = nullptr;
    const msw_tensor* output_weight = nullptr;
  };
  struct Saved {
    msw_tensor normed{};  // (T, H)
    Norm::Saved norm;
    msw_tensor logits{};  // (T, V)
    msw_tensor lse{};     // (T)
  };
  struct Loss {
    double loss_sum = 0;
    int64_t count = 0;
  };

  Linear output() const { return {hidden, vocab, false, TpRole::column}; }

  Saved declare_saved(Arena& a, int64_t rows) const {
    Saved s;
    s.normed = a.f32({rows, hidden});
    s.norm = norm.declare(a, rows);
    s.logits = a.f32({rows, vocab});
    s.lse = a.f32({rows});
    return s;
  }

  // x (T, H) -> logits kept in saved; loss when labels (T) are given.
  Loss forward(const sdk::Ops& ops, const msw_tensor& x, const msw_tensor* labels, const Params& p,
               const Saved& sv) const {
    norm.forward(ops, x, *p.norm_weight, p.norm_bias, sv.normed, sv.norm);
    output().forward(ops, sv.normed, *p.output_weight, nullptr, sv.logits);
    Loss loss;
    if (labels) {
      const auto r = ops.cross_entropy_forward(sv.logits, *labels, kIgnoreIndex, sv.lse, nullptr);
      loss.loss_sum = r.loss_sum;
      loss.count = r.count;
    }
    return loss;
  }

  // dx (T, H) written; loss_scale = d objective / d loss_sum. Consumes the saved logits (gradient in place).
  void backward(const sdk::Ops& ops, const msw_tensor& x, const msw_tensor& labels, const Params& p, const Saved& sv,
                Arena& ws, double loss_scale, const msw_tensor& dx, const Params& g) const {
    const uint64_t mark = ws.mark();
    const msw_tensor dnormed = ws.f32({sv.normed.shape[0], hidden});
    ops.cross_entropy_backward(sv.logits, labels, sv.lse, kIgnoreIndex, loss_scale, sv.logits);
    output().backward(ops, sv.normed, *p.output_weight, sv.logits, &dnormed, g.output_weight, nullptr);
    norm.backward(ops, x, *p.norm_weight, sv.norm, dnormed, &dx, g.norm_weight, g.norm_bias);
    ws.release(mark);
  }
};

}  // namespace megaswift::nn
