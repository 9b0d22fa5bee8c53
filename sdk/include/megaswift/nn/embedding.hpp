// The word embedding (vocab-parallel when TP > 1: rows split on dim 0), optionally scaled: Gemma multiplies
// the embedding output by sqrt(hidden_size), rounded to the activation dtype as HF does (normalizer =
// torch.tensor(hidden_size**0.5, dtype=hidden.dtype)).
//
// The token ids [B, S] are read in activation order [S, B] (a transposing copy into the workspace when
// B > 1), so the hidden state comes out [S, B, H].
#pragma once

#include <megaswift/nn/layer_spec.hpp>

#include <cmath>
#include <memory>

namespace megaswift::nn {

// The factor the embedding output is multiplied by, from the config (1: none).
using EmbeddingScale = double (*)(const TransformerConfig&);

// sqrt(hidden_size) rounded to fp32, the activation dtype (HF rounds it to the hidden states' dtype).
inline double sqrt_hidden_size(const TransformerConfig& c) {
  return static_cast<double>(static_cast<float>(std::sqrt(static_cast<double>(c.hidden_size))));
}

class WordEmbedding {
 public:
  explicit WordEmbedding(ModuleContext& c, EmbeddingScale scale = nullptr)
      : hidden_(c.config().hidden_size), act_(c.act_dtype()), scale_(scale ? scale(c.config()) : 1.0) {
    const TransformerConfig& cfg = c.config();
    weight_ = c.matrix("embedding.word_embeddings.weight", {cfg.padded_vocab_size, hidden_}, MSW_TP_CONTIGUOUS, 0,
                       c.init_std(), cfg.padded_vocab_size > cfg.vocab_size ? MSW_HF_PAD_ROWS : MSW_HF_IDENTITY,
                       {"model.embed_tokens.weight"}, {{cfg.vocab_size, hidden_}});
  }
  virtual ~WordEmbedding() = default;

  ParamId weight() const { return weight_; }
  double output_scale() const { return scale_; }

  virtual uint64_t saved_bytes(const Geometry&) const { return 0; }
  virtual uint64_t workspace_bytes(const Geometry& g) const {
    return planned_bytes([&](Arena& a) {
      declare_tokens_in_activation_order(a, g);
      if (scale_ != 1.0) a.take(act_, {g.t(), hidden_});
    });
  }
  // hidden (T, H) written from the batch's input ids.
  virtual void forward(const Step& st, Arena&, Arena& ws, const msw_tensor& hidden) const {
    const uint64_t mark = ws.mark();
    const msw_tensor ids = tokens_in_activation_order(st.ops, ws, st.geo.input_ids, st.geo);
    st.ops.embedding_forward(ids, st.params[weight_], hidden);
    if (scale_ != 1.0) st.ops.scale(hidden, scale_);
    ws.release(mark);
  }
  // The table's gradient accumulates d_hidden (T, H) (times the scale).
  virtual void backward(const Step& st, Arena&, Arena& ws, const msw_tensor& d_hidden) const {
    const msw_tensor* dtable = st.params.grad(weight_);
    if (!dtable) return;
    const uint64_t mark = ws.mark();
    const msw_tensor ids = tokens_in_activation_order(st.ops, ws, st.geo.input_ids, st.geo);
    msw_tensor d = d_hidden;
    if (scale_ != 1.0) {  // d_hidden is the host's: scale a copy
      d = ws.take(act_, {st.geo.t(), hidden_});
      st.ops.copy(d_hidden, d);
      st.ops.scale(d, scale_);
    }
    st.ops.embedding_backward(ids, d, *dtable);
    ws.release(mark);
  }

 private:
  int64_t hidden_;
  int32_t act_;
  double scale_;
  ParamId weight_ = kNoParam;
};

// A factory for the word embedding, scaled by `scale` (none by default).
inline EmbeddingFactory word_embedding(EmbeddingScale scale = nullptr) {
  return [scale](ModuleContext& c) { return std::make_unique<WordEmbedding>(c, scale); };
}

}  // namespace megaswift::nn
