// Language-model head: final norm, output layer (the word embedding when tied), cross-entropy against
// position-aligned labels (ignore index -100), with the loss sum and token count added to the call's device
// scalars (loss_sum, token_count).
//
// The logits are computed in chunks of tokens, so the head never holds fp32 logits of the whole micro-batch
// (model.h) unless the caller asks for them (call.logits, written in place chunk by chunk). Backward
// recomputes each chunk's logits from the saved normed hidden state: one more output-layer GEMM instead of
// keeping T x V values; with the config's keep_logits the chunks go into the saved tensors instead (T x V in the
// activation dtype, as Megatron keeps its logits) and backward takes them from there, the same bits (the
// recomputation is the same GEMM on the same inputs). Saved for backward: the normed hidden state, the norm's
// saved tensors, the softmax log-sum-exp of every token, and the kept logits.
#pragma once

#include <megaswift/nn/layer_spec.hpp>
#include <megaswift/nn/linear.hpp>

#include <algorithm>
#include <memory>

namespace megaswift::nn {

inline constexpr int64_t kIgnoreIndex = -100;

class LmHead {
 public:

  // `tied_weight`: the word embedding read as the output layer, or kNoParam for an output_layer of its own.
  LmHead(ModuleContext& c, const ModelSpec& spec, ParamId tied_weight) {
    const TransformerConfig& cfg = c.config();
    hidden_ = cfg.hidden_size;
    vocab_ = cfg.padded_vocab_size;
    act_ = c.act_dtype();
    chunk_bytes_ = cfg.logits_chunk_bytes;
    keep_logits_ = cfg.keep_logits;
    norm_ = spec.final_layernorm(c, {hidden_, 1, cfg.norm_epsilon, "decoder.final_layernorm.weight", "model.norm.weight"});
    if (tied_weight != kNoParam) {
      c.share(tied_weight);
      output_weight_ = tied_weight;
    } else {
      output_weight_ = c.matrix("output_layer.weight", {vocab_, hidden_}, MSW_TP_CONTIGUOUS, 0, c.init_std(),
                                vocab_ > cfg.vocab_size ? MSW_HF_PAD_ROWS : MSW_HF_IDENTITY, {"lm_head.weight"},
                                {{cfg.vocab_size, hidden_}});
    }
  }
  virtual ~LmHead() = default;

  int64_t chunk_rows(const Geometry& g) const {
    const int64_t rows = static_cast<int64_t>(chunk_bytes_ / (static_cast<uint64_t>(vocab_) * msw_dtype_size(act_)));
    return std::max<int64_t>(1, std::min(g.t(), rows));
  }

  uint64_t saved_bytes(const Geometry& g) const {
    return planned_bytes([&](Arena& a) { declare_saved(a, g); });
  }
  uint64_t workspace_bytes(const Geometry& g) const {
    return planned_bytes([&](Arena& a) {
      declare_tokens_in_activation_order(a, g);
      a.take(act_, {g.t(), hidden_});  // backward: d normed
      if (!keep_logits_) a.take(act_, {chunk_rows(g), vocab_});
      a.reserve(norm_->workspace_bytes(g));
    });
  }

  // hidden (T, H) -> call.loss_sum += , call.token_count += (when the batch has labels), call.logits
  // (S, B, V) written when given.
  void forward(const Step& st, Arena& saved, Arena& ws, const msw_tensor& hidden) const {
    const Saved sv = declare_saved(saved, st.geo);
    Arena norm_saved = sv.norm;
    norm_->forward(st, norm_saved, ws, hidden, sv.normed);
    const bool want_logits = !msw_tensor_is_absent(&st.call.logits);
    const bool want_loss = !msw_tensor_is_absent(&st.geo.labels);
    if (!want_logits && !want_loss) return;
    const int64_t t = st.geo.t();
    msw_tensor logits{};
    if (want_logits) {
      const msw_tensor& l = st.call.logits;
      if (l.dtype != MSW_DTYPE_F32 || msw_tensor_numel(&l) != t * vocab_ || !msw_tensor_is_contiguous(&l))
        throw sdk::Error(MSW_STATUS_SHAPE_MISMATCH, "call.logits is " + std::string(sdk::dtype_name(l.dtype)) + " " +
                                                        sdk::shape_string(l) + ", expected dense float32 [S, B, V] = (" +
                                                        std::to_string(st.geo.s) + ", " + std::to_string(st.geo.b) +
                                                        ", " + std::to_string(vocab_) + ")");
      logits = rows_view(l, t, vocab_);
    }
    const uint64_t mark = ws.mark();
    const msw_tensor labels = want_loss ? tokens_in_activation_order(st.ops, ws, st.geo.labels, st.geo) : msw_tensor{};
    const int64_t chunk = chunk_rows(st.geo);
    const msw_tensor scratch = want_logits || keep_logits_ ? msw_tensor{} : ws.take(act_, {chunk, vocab_});
    for (int64_t r = 0; r < t; r += chunk) {
      const int64_t n = std::min(chunk, t - r);
      const msw_tensor normed = sdk::narrow(sv.normed, 0, r, n);
      const msw_tensor kept = keep_logits_ ? sdk::narrow(sv.logits, 0, r, n) : msw_tensor{};
      const msw_tensor lc = want_logits ? sdk::narrow(logits, 0, r, n) : keep_logits_ ? kept : sdk::narrow(scratch, 0, 0, n);
      output().forward(st.ops, normed, st.params[output_weight_], nullptr, lc);
      // The caller's fp32 logits are not the activation-dtype GEMM backward would recompute: that one is kept.
      if (keep_logits_ && want_logits) output().forward(st.ops, normed, st.params[output_weight_], nullptr, kept);
      if (!want_loss) continue;
      msw_cross_entropy_args a{};
      a.logits = lc;
      a.labels = sdk::narrow(labels, 0, r, n);
      a.ignore_index = kIgnoreIndex;
      a.lse = sdk::narrow(sv.lse, 0, r, n);
      a.loss_sum = st.call.loss_sum;
      a.count = st.call.token_count;
      st.ops.cross_entropy_forward(a);
    }
    ws.release(mark);
  }

  // d_hidden (T, H) written from call.loss_scale (or call.loss_scale_tensor).
  void backward(const Step& st, Arena& saved, Arena& ws, const msw_tensor& hidden, const msw_tensor& d_hidden) const {
    if (msw_tensor_is_absent(&st.geo.labels))
      throw sdk::Error(MSW_STATUS_INVALID_ARGUMENT, "head_backward needs batch labels (there is no loss without them)");
    const Saved sv = declare_saved(saved, st.geo);
    const int64_t t = st.geo.t(), chunk = chunk_rows(st.geo);
    const uint64_t mark = ws.mark();
    const msw_tensor labels = tokens_in_activation_order(st.ops, ws, st.geo.labels, st.geo);
    const msw_tensor dnormed = ws.take(act_, {t, hidden_});
    const msw_tensor scratch = keep_logits_ ? msw_tensor{} : ws.take(act_, {chunk, vocab_});
    const msw_tensor& w = st.params[output_weight_];
    for (int64_t r = 0; r < t; r += chunk) {
      const int64_t n = std::min(chunk, t - r);
      const msw_tensor lc = keep_logits_ ? sdk::narrow(sv.logits, 0, r, n) : sdk::narrow(scratch, 0, 0, n);
      const msw_tensor normed = sdk::narrow(sv.normed, 0, r, n);
      if (!keep_logits_) output().forward(st.ops, normed, w, nullptr, lc);  // recomputed: the forward kept none
      msw_cross_entropy_args a{};
      a.logits = lc;
      a.labels = sdk::narrow(labels, 0, r, n);
      a.ignore_index = kIgnoreIndex;
      a.lse = sdk::narrow(sv.lse, 0, r, n);
      a.grad_scale = st.call.loss_scale;
      a.grad_scale_tensor = st.call.loss_scale_tensor;
      a.dlogits = lc;  // in place
      st.ops.cross_entropy_backward(a);
      const msw_tensor dn = sdk::narrow(dnormed, 0, r, n);
      output().backward(st.ops, normed, w, lc, &dn, st.params.grad(output_weight_), nullptr);
    }
    Arena norm_saved = sv.norm;
    norm_->backward(st, norm_saved, ws, hidden, dnormed, d_hidden, false);
    ws.release(mark);
  }

 protected:
  struct Saved {
    msw_tensor normed{};  // (T, H)
    Arena norm;
    msw_tensor lse{};     // (T)
    msw_tensor logits{};  // (T, V) with keep_logits (backward turns them into the logits' gradient in place)
  };
  Saved declare_saved(Arena& a, const Geometry& g) const {
    Saved s;
    s.normed = a.take(act_, {g.t(), hidden_});
    s.norm = a.sub(norm_->saved_bytes(g), "final_layernorm saved");
    s.lse = a.f32({g.t()});
    if (keep_logits_) s.logits = a.take(act_, {g.t(), vocab_});
    return s;
  }
  Linear output() const { return {hidden_, vocab_, false, TpRole::column}; }

  int64_t hidden_ = 0, vocab_ = 0;
  // The normed hidden state and the logits chunks: the activation dtype, as Megatron's bf16 logits; the
  // cross-entropy reads them in fp32 and keeps its lse in fp32.
  int32_t act_ = MSW_DTYPE_F32;
  uint64_t chunk_bytes_ = 0;  // the config's logits_chunk_bytes
  bool keep_logits_ = false;  // the config's keep_logits
  std::unique_ptr<Norm> norm_;
  ParamId output_weight_ = kNoParam;
};

}  // namespace megaswift::nn
