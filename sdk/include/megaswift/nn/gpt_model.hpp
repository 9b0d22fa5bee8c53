// A complete model plugin implementation for Llama-style GPT decoders (Llama 2/3/3.1, Mistral, Qwen2/2.5,
// Qwen3): pre-norm RMSNorm layers, fused QKV attention with GQA, RoPE variants, optional qkv bias and
// qk-norm, SwiGLU MLP, optional tied output layer. A plugin derives from GptModel, names the HF model types
// it serves and the per-family config rules (HfFamily), and is done.
//
// Parameter names follow Megatron-Core's Transformer Engine layer spec (what Megatron-SWIFT writes):
//   embedding.word_embeddings.weight
//   decoder.layers.{i}.self_attention.linear_qkv.{layer_norm_weight,weight,bias}
//   decoder.layers.{i}.self_attention.{q_layernorm,k_layernorm}.weight          (qk_layernorm)
//   decoder.layers.{i}.self_attention.linear_proj.{weight,bias}
//   decoder.layers.{i}.mlp.linear_fc1.{layer_norm_weight,weight,bias}
//   decoder.layers.{i}.mlp.linear_fc2.{weight,bias}
//   decoder.final_layernorm.weight
//   output_layer.weight                                                           (untied only)
// With tied embeddings the head reads embedding.word_embeddings.weight (its `parts` are EMBEDDING|HEAD), so
// its gradient sums both uses.
//
// Initialisation rules (Megatron's): weights normal(0, init_method_std); linear_proj and linear_fc2 with
// init_method_std / sqrt(2 * num_layers); norm weights 1; biases 0. No weight decay on norms and biases.
#pragma once

#include <megaswift/nn/arena.hpp>
#include <megaswift/nn/attention.hpp>
#include <megaswift/nn/cross_entropy.hpp>
#include <megaswift/nn/embedding.hpp>
#include <megaswift/nn/hf_config.hpp>
#include <megaswift/nn/hf_layout.hpp>
#include <megaswift/nn/mlp.hpp>
#include <megaswift/nn/norm.hpp>
#include <megaswift/nn/param_table.hpp>
#include <megaswift/nn/transformer_config.hpp>
#include <megaswift/sdk/model.hpp>
#include <megaswift/sdk/ops.hpp>

#include <algorithm>
#include <cmath>
#include <string>
#include <string_view>
#include <vector>

namespace megaswift::nn {

class GptModel : public sdk::Model {
 public:
  using FamilyOf = HfFamily (*)(const std::string& hf_model_type);

  GptModel(std::string_view config_json, FamilyOf family_of)
      : cfg_(transformer_config_from_text(config_json)), family_(family_of(cfg_.hf_model_type)) {
    if (cfg_.normalization != "RMSNorm")
      throw sdk::Error(MSW_STATUS_UNSUPPORTED, std::string(family_.plugin) + " model: normalization " +
                                                   cfg_.normalization + " is not supported (RMSNorm only)");
    if (!cfg_.swiglu)
      throw sdk::Error(MSW_STATUS_UNSUPPORTED, std::string(family_.plugin) + " model: only the SwiGLU MLP is supported");
    config_text_ = to_json(cfg_).dump(2);
    build_blocks();
    build_table();
  }

  const TransformerConfig& config() const { return cfg_; }

  // ---- part 1 ----
  msw_model_info describe() const override {
    msw_model_info i{};
    i.struct_size = sizeof(msw_model_info);
    i.activation_dtype = MSW_DTYPE_F32;
    i.num_layers = cfg_.num_layers;
    i.hidden_size = cfg_.hidden_size;
    i.vocab_size = cfg_.vocab_size;
    i.padded_vocab_size = cfg_.padded_vocab_size;
    i.max_position_embeddings = cfg_.max_position_embeddings;
    return i;
  }
  const std::string& config_json() const override { return config_text_; }
  std::string config_to_hf() const override { return hf_config_from_transformer(cfg_, family_).dump(2); }

  // ---- part 2 ----
  int64_t param_count() const override { return table_.size(); }
  msw_param_info param_info(int64_t index) const override { return table_.info(index); }
  int64_t hf_mapping_count() const override { return table_.mapping_count(); }
  msw_hf_mapping hf_mapping(int64_t index) const override { return table_.mapping_record(index); }
  void hf_to_megatron(int64_t index, const msw_tensor* hf, const msw_tensor& out) const override {
    convert(index, hf, out, true);
  }
  void megatron_to_hf(int64_t index, const msw_tensor& megatron, const msw_tensor* hf) const override {
    convert(index, hf, megatron, false);
  }

  // ---- part 3 ----
  msw_model_memory memory(const msw_model_shape& shape) const override {
    check_shape(shape.batch_size, shape.seq_len);
    const int64_t b = shape.batch_size, s = shape.seq_len, t = b * s;
    const msw_device cpu{MSW_DEVICE_CPU, 0};
    msw_model_memory m{};
    m.struct_size = sizeof(msw_model_memory);
    {
      Arena a(cpu);
      declare_layer_saved(a, b, s);
      m.layer_saved = a.peak();
    }
    {
      Arena a(cpu);
      head_.declare_saved(a, t);
      m.head_saved = a.peak();
    }
    uint64_t ws = 0;
    for (int phase = 0; phase < 3; ++phase) {
      Arena a(cpu);
      if (phase == 0) plan_layer_forward(a, b, s);
      if (phase == 1) plan_layer_backward(a, b, s);
      if (phase == 2) a.f32({t, cfg_.hidden_size});  // head backward
      ws = std::max(ws, a.peak());
    }
    m.workspace = ws;
    return m;
  }

  void embedding_forward(const msw_exec_ctx& ctx, const msw_model_batch& batch, const msw_tensor* params,
                         const msw_tensor&, const msw_tensor&, const msw_tensor& hidden) override {
    const sdk::Ops ops(ctx);
    const int64_t t = check_batch(batch, &hidden, "hidden");
    embedding_.forward(ops, sdk::reshape(batch.input_ids, {t}), params[0], sdk::reshape(hidden, {t, cfg_.hidden_size}));
  }

  void embedding_backward(const msw_exec_ctx& ctx, const msw_model_batch& batch, const msw_tensor*,
                          const msw_tensor&, const msw_tensor&, const msw_tensor& d_hidden,
                          const msw_tensor* grads) override {
    const sdk::Ops ops(ctx);
    const int64_t t = check_batch(batch, &d_hidden, "d_hidden");
    if (grads)
      embedding_.backward(ops, sdk::reshape(batch.input_ids, {t}), sdk::reshape(d_hidden, {t, cfg_.hidden_size}),
                          grads[0]);
  }

  void layer_forward(const msw_exec_ctx& ctx, int64_t layer, const msw_model_batch& batch, const msw_tensor* params,
                     const msw_tensor& x, const msw_tensor& saved, const msw_tensor& workspace,
                     const msw_tensor& y) override {
    check_layer(layer);
    const sdk::Ops ops(ctx);
    const int64_t b = batch.batch_size, s = batch.seq_len, t = check_batch(batch, &x, "x");
    check_batch(batch, &y, "y");
    Arena sv(saved, "layer saved"), ws(workspace, "workspace");
    const LayerSaved ls = declare_layer_saved(sv, b, s);
    const LayerParams p = layer_params(params);
    const msw_tensor x2 = sdk::reshape(x, {t, cfg_.hidden_size}), y2 = sdk::reshape(y, {t, cfg_.hidden_size});
    const msw_tensor* positions = positions_of(batch);

    norm_.forward(ops, x2, *p.ln1, nullptr, ls.ln1_out, ls.ln1);
    const uint64_t mark = ws.mark();
    const msw_tensor attn_out = ws.f32({t, cfg_.hidden_size});
    attention_.forward(ops, b, s, positions, ls.ln1_out, p.attn, ls.attn, ws, attn_out);
    ops.add(x2, attn_out, ls.h);
    ws.release(mark);
    norm_.forward(ops, ls.h, *p.ln2, nullptr, ls.ln2_out, ls.ln2);
    const msw_tensor mlp_out = ws.f32({t, cfg_.hidden_size});
    mlp_.forward(ops, ls.ln2_out, p.mlp, ls.mlp, mlp_out);
    ops.add(ls.h, mlp_out, y2);
  }

  void layer_backward(const msw_exec_ctx& ctx, int64_t layer, const msw_model_batch& batch, const msw_tensor* params,
                      const msw_tensor& x, const msw_tensor& saved, const msw_tensor& workspace, const msw_tensor& dy,
                      const msw_tensor& dx, const msw_tensor* grads) override {
    check_layer(layer);
    const sdk::Ops ops(ctx);
    const int64_t b = batch.batch_size, s = batch.seq_len, t = check_batch(batch, &x, "x");
    check_batch(batch, &dy, "dy");
    check_batch(batch, &dx, "dx");
    Arena sv(saved, "layer saved"), ws(workspace, "workspace");
    const LayerSaved ls = declare_layer_saved(sv, b, s);
    const LayerParams p = layer_params(params);
    const LayerParams g = grads ? layer_params(grads) : LayerParams{};
    const int64_t h = cfg_.hidden_size;
    const msw_tensor x2 = sdk::reshape(x, {t, h}), dy2 = sdk::reshape(dy, {t, h}), dx2 = sdk::reshape(dx, {t, h});
    const msw_tensor* positions = positions_of(batch);

    const msw_tensor d_ln2 = ws.f32({t, h});
    const msw_tensor dh = ws.f32({t, h});
    const msw_tensor d_ln1 = ws.f32({t, h});
    mlp_.backward(ops, ls.ln2_out, p.mlp, ls.mlp, ws, dy2, d_ln2, g.mlp);
    norm_.backward(ops, ls.h, *p.ln2, ls.ln2, d_ln2, &dh, g.ln2);
    ops.accumulate(dy2, dh);  // the residual path; dy is not read after this, so dx may alias it
    attention_.backward(ops, b, s, positions, ls.ln1_out, p.attn, ls.attn, ws, dh, d_ln1, g.attn);
    norm_.backward(ops, x2, *p.ln1, ls.ln1, d_ln1, &dx2, g.ln1);
    ops.accumulate(dh, dx2);
  }

  msw_model_loss head_forward(const msw_exec_ctx& ctx, const msw_model_batch& batch, const msw_tensor* params,
                              const msw_tensor& hidden, const msw_tensor& saved, const msw_tensor&,
                              const msw_tensor* logits) override {
    const sdk::Ops ops(ctx);
    const int64_t t = check_batch(batch, &hidden, "hidden");
    Arena sv(saved, "head saved");
    const LmHead::Saved hs = head_.declare_saved(sv, t);
    const msw_tensor labels = batch.labels.data ? sdk::reshape(batch.labels, {t}) : msw_tensor{};
    const LmHead::Loss l = head_.forward(ops, sdk::reshape(hidden, {t, cfg_.hidden_size}),
                                         batch.labels.data ? &labels : nullptr, head_params(params), hs);
    if (logits) ops.copy(hs.logits, sdk::reshape(*logits, {t, cfg_.padded_vocab_size}));
    return {l.loss_sum, l.count};
  }

  void head_backward(const msw_exec_ctx& ctx, const msw_model_batch& batch, const msw_tensor* params,
                     const msw_tensor& hidden, const msw_tensor& saved, const msw_tensor& workspace, double loss_scale,
                     const msw_tensor& d_hidden, const msw_tensor* grads) override {
    const sdk::Ops ops(ctx);
    const int64_t t = check_batch(batch, &hidden, "hidden");
    check_batch(batch, &d_hidden, "d_hidden");
    if (!batch.labels.data)
      throw sdk::Error(MSW_STATUS_INVALID_ARGUMENT, "head_backward needs batch labels (there is no loss without them)");
    Arena sv(saved, "head saved"), ws(workspace, "workspace");
    const LmHead::Saved hs = head_.declare_saved(sv, t);
    head_.backward(ops, sdk::reshape(hidden, {t, cfg_.hidden_size}), sdk::reshape(batch.labels, {t}),
                   head_params(params), hs, ws, loss_scale, sdk::reshape(d_hidden, {t, cfg_.hidden_size}),
                   grads ? head_params(grads) : LmHead::Params{});
  }

 private:
  // Positions of each layer parameter inside the layer's params array (-1 when absent).
  struct LayerSlots {
    int ln1 = -1, qkv_w = -1, qkv_b = -1, q_norm = -1, k_norm = -1, proj_w = -1, proj_b = -1, ln2 = -1, fc1_w = -1,
        fc1_b = -1, fc2_w = -1, fc2_b = -1, count = 0;
  };
  struct LayerParams {
    const msw_tensor* ln1 = nullptr;
    const msw_tensor* ln2 = nullptr;
    SelfAttention::Params attn;
    Mlp::Params mlp;
  };
  struct LayerSaved {
    msw_tensor ln1_out{};
    Norm::Saved ln1;
    SelfAttention::Saved attn;
    msw_tensor h{};
    msw_tensor ln2_out{};
    Norm::Saved ln2;
    Mlp::Saved mlp;
  };

  void build_blocks() {
    const auto& c = cfg_;
    embedding_ = {c.padded_vocab_size, c.hidden_size};
    norm_ = {NormKind::rms, c.hidden_size, c.norm_epsilon};
    attention_.hidden = c.hidden_size;
    attention_.q_heads = c.num_attention_heads;
    attention_.kv_heads = c.num_query_groups;
    attention_.head_dim = c.kv_channels;
    attention_.qkv_bias = c.add_qkv_bias;
    attention_.proj_bias = c.add_bias_linear;
    attention_.qk_norm = c.qk_layernorm;
    attention_.qk_norm_eps = c.norm_epsilon;
    attention_.rope = rope_config();
    attention_.keep_probs = c.recompute_granularity != "selective";
    attention_.sliding_window = c.sliding_window;
    mlp_ = {c.hidden_size, c.ffn_hidden_size, c.add_bias_linear, MlpActivation::swiglu};
    head_.norm = norm_;
    head_.hidden = c.hidden_size;
    head_.vocab = c.padded_vocab_size;
  }

  msw_rope_config rope_config() const {
    const auto& r = cfg_.rope_scaling;
    msw_rope_config rc{};
    rc.struct_size = sizeof(msw_rope_config);
    rc.scaling = r.type == "linear"    ? MSW_ROPE_LINEAR
                 : r.type == "dynamic" ? MSW_ROPE_DYNAMIC
                 : r.type == "llama3"  ? MSW_ROPE_LLAMA3
                 : r.type == "yarn"    ? MSW_ROPE_YARN
                                       : MSW_ROPE_NONE;
    rc.theta = cfg_.rotary_base;
    rc.head_dim = cfg_.kv_channels;
    rc.partial_rotary_factor = cfg_.rotary_percent;
    rc.max_position_embeddings = cfg_.max_position_embeddings;
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

  void build_table() {
    const auto& c = cfg_;
    const int64_t H = c.hidden_size, V = c.padded_vocab_size, F = c.ffn_hidden_size, D = c.kv_channels;
    const double init_std = c.init_method_std;
    const double scaled = init_std / std::sqrt(2.0 * static_cast<double>(c.num_layers));
    const uint32_t emb_parts = part_bit(MSW_MODEL_PART_EMBEDDING) | (c.tied() ? part_bit(MSW_MODEL_PART_HEAD) : 0u);
    const msw_hf_transform vocab_transform = V > c.vocab_size ? MSW_HF_PAD_ROWS : MSW_HF_IDENTITY;

    auto add = [&](ParamSpec spec, std::vector<std::string> hf_names, std::vector<std::vector<int64_t>> hf_shapes,
                   msw_hf_transform transform) {
      const std::string name = spec.name;
      const int64_t index = table_.add(std::move(spec));
      mapping_param_.push_back(index);
      table_.add_mapping({name, transform, std::move(hf_names), std::move(hf_shapes)});
      return index;
    };
    auto matrix = [](std::string name, std::vector<int64_t> shape, msw_tp_split split, int32_t dim, int32_t layer,
                     uint32_t parts, double init_std) {
      return ParamSpec{std::move(name), std::move(shape), split, dim, layer, parts, MSW_INIT_NORMAL, init_std, true};
    };
    auto vector = [](std::string name, int64_t n, msw_tp_split split, int32_t dim, int32_t layer, uint32_t parts,
                     msw_param_init init) {
      return ParamSpec{std::move(name), {n}, split, dim, layer, parts, init, 0.0, false};
    };

    add(matrix("embedding.word_embeddings.weight", {V, H}, MSW_TP_CONTIGUOUS, 0, -1, emb_parts, init_std),
        {"model.embed_tokens.weight"}, {{c.vocab_size, H}}, vocab_transform);

    const uint32_t L = part_bit(MSW_MODEL_PART_LAYER);
    for (int32_t i = 0; i < c.num_layers; ++i) {
      const std::string m = "decoder.layers." + std::to_string(i) + ".";
      const std::string hf = "model.layers." + std::to_string(i) + ".";
      LayerSlots slots;
      int pos = 0;
      auto slot = [&](int& where, int64_t) { where = pos++; };
      slot(slots.ln1, add(vector(m + "self_attention.linear_qkv.layer_norm_weight", H, MSW_TP_REPLICATED, -1, i, L,
                                 MSW_INIT_ONES),
                          {hf + "input_layernorm.weight"}, {{H}}, MSW_HF_IDENTITY));
      slot(slots.qkv_w, add(matrix(m + "self_attention.linear_qkv.weight", {c.qkv_width(), H}, MSW_TP_CONTIGUOUS, 0, i,
                                   L, init_std),
                            {hf + "self_attn.q_proj.weight", hf + "self_attn.k_proj.weight", hf + "self_attn.v_proj.weight"},
                            {{c.q_width(), H}, {c.kv_width(), H}, {c.kv_width(), H}}, MSW_HF_QKV));
      if (c.add_qkv_bias)
        slot(slots.qkv_b, add(vector(m + "self_attention.linear_qkv.bias", c.qkv_width(), MSW_TP_CONTIGUOUS, 0, i, L,
                                     MSW_INIT_ZEROS),
                              {hf + "self_attn.q_proj.bias", hf + "self_attn.k_proj.bias", hf + "self_attn.v_proj.bias"},
                              {{c.q_width()}, {c.kv_width()}, {c.kv_width()}}, MSW_HF_QKV));
      if (c.qk_layernorm) {
        slot(slots.q_norm, add(vector(m + "self_attention.q_layernorm.weight", D, MSW_TP_REPLICATED, -1, i, L,
                                      MSW_INIT_ONES),
                               {hf + "self_attn.q_norm.weight"}, {{D}}, MSW_HF_IDENTITY));
        slot(slots.k_norm, add(vector(m + "self_attention.k_layernorm.weight", D, MSW_TP_REPLICATED, -1, i, L,
                                      MSW_INIT_ONES),
                               {hf + "self_attn.k_norm.weight"}, {{D}}, MSW_HF_IDENTITY));
      }
      slot(slots.proj_w, add(matrix(m + "self_attention.linear_proj.weight", {H, c.q_width()}, MSW_TP_CONTIGUOUS, 1, i,
                                    L, scaled),
                             {hf + "self_attn.o_proj.weight"}, {{H, c.q_width()}}, MSW_HF_IDENTITY));
      if (c.add_bias_linear)
        slot(slots.proj_b, add(vector(m + "self_attention.linear_proj.bias", H, MSW_TP_REPLICATED, -1, i, L,
                                      MSW_INIT_ZEROS),
                               {hf + "self_attn.o_proj.bias"}, {{H}}, MSW_HF_IDENTITY));
      slot(slots.ln2, add(vector(m + "mlp.linear_fc1.layer_norm_weight", H, MSW_TP_REPLICATED, -1, i, L, MSW_INIT_ONES),
                          {hf + "post_attention_layernorm.weight"}, {{H}}, MSW_HF_IDENTITY));
      slot(slots.fc1_w, add(matrix(m + "mlp.linear_fc1.weight", {2 * F, H}, MSW_TP_GLU, 0, i, L, init_std),
                            {hf + "mlp.gate_proj.weight", hf + "mlp.up_proj.weight"}, {{F, H}, {F, H}}, MSW_HF_GLU));
      if (c.add_bias_linear)
        slot(slots.fc1_b, add(vector(m + "mlp.linear_fc1.bias", 2 * F, MSW_TP_GLU, 0, i, L, MSW_INIT_ZEROS),
                              {hf + "mlp.gate_proj.bias", hf + "mlp.up_proj.bias"}, {{F}, {F}}, MSW_HF_GLU));
      slot(slots.fc2_w, add(matrix(m + "mlp.linear_fc2.weight", {H, F}, MSW_TP_CONTIGUOUS, 1, i, L, scaled),
                            {hf + "mlp.down_proj.weight"}, {{H, F}}, MSW_HF_IDENTITY));
      if (c.add_bias_linear)
        slot(slots.fc2_b, add(vector(m + "mlp.linear_fc2.bias", H, MSW_TP_REPLICATED, -1, i, L, MSW_INIT_ZEROS),
                              {hf + "mlp.down_proj.bias"}, {{H}}, MSW_HF_IDENTITY));
      slots.count = pos;
      layer_slots_ = slots;  // identical for every layer
    }

    const uint32_t HEAD = part_bit(MSW_MODEL_PART_HEAD);
    add(vector("decoder.final_layernorm.weight", H, MSW_TP_REPLICATED, -1, -1, HEAD, MSW_INIT_ONES),
        {"model.norm.weight"}, {{H}}, MSW_HF_IDENTITY);
    if (!c.tied())
      add(matrix("output_layer.weight", {V, H}, MSW_TP_CONTIGUOUS, 0, -1, HEAD, init_std), {"lm_head.weight"},
          {{c.vocab_size, H}}, vocab_transform);

    // Head params arrive in table order: [word_embeddings (tied)], final_layernorm, [output_layer].
    head_norm_slot_ = c.tied() ? 1 : 0;
    head_output_slot_ = c.tied() ? 0 : 1;
  }

  void convert(int64_t index, const msw_tensor* hf, const msw_tensor& megatron, bool to_megatron) const {
    const msw_hf_mapping record = table_.mapping_record(index);
    const ParamSpec& p = table_[mapping_param_.at(static_cast<size_t>(index))];
    bool ok = megatron.ndim == static_cast<int32_t>(p.shape.size());
    for (size_t d = 0; ok && d < p.shape.size(); ++d) ok = megatron.shape[d] == p.shape[d];
    if (!ok)
      throw sdk::Error(MSW_STATUS_SHAPE_MISMATCH, p.name + " is " + sdk::shape_string(megatron) +
                                                      ", expected its global shape from the parameter table");
    apply_hf_layout(record, hf, megatron, to_megatron, cfg_.num_attention_heads / cfg_.num_query_groups,
                    cfg_.kv_channels);
  }

  LayerParams layer_params(const msw_tensor* a) const {
    const LayerSlots& s = layer_slots_;
    auto at = [a](int slot) { return slot >= 0 ? a + slot : nullptr; };
    LayerParams p;
    p.ln1 = at(s.ln1);
    p.ln2 = at(s.ln2);
    p.attn = {at(s.qkv_w), at(s.qkv_b), at(s.q_norm), at(s.k_norm), at(s.proj_w), at(s.proj_b)};
    p.mlp = {at(s.fc1_w), at(s.fc1_b), at(s.fc2_w), at(s.fc2_b)};
    return p;
  }
  LmHead::Params head_params(const msw_tensor* a) const {
    return {a + head_norm_slot_, nullptr, a + head_output_slot_};
  }

  LayerSaved declare_layer_saved(Arena& a, int64_t b, int64_t s) const {
    const int64_t t = b * s, h = cfg_.hidden_size;
    LayerSaved r;
    r.ln1_out = a.f32({t, h});
    r.ln1 = norm_.declare(a, t);
    r.attn = attention_.declare_saved(a, b, s);
    r.h = a.f32({t, h});
    r.ln2_out = a.f32({t, h});
    r.ln2 = norm_.declare(a, t);
    r.mlp = mlp_.declare_saved(a, t);
    return r;
  }
  // The workspace takes of layer_forward/layer_backward, in the same order (positions given: the larger tables).
  void plan_layer_forward(Arena& a, int64_t b, int64_t s) const {
    const int64_t t = b * s;
    const uint64_t mark = a.mark();
    a.f32({t, cfg_.hidden_size});
    attention_.declare_forward(a, b, s, true);
    a.release(mark);
    a.f32({t, cfg_.hidden_size});
  }
  void plan_layer_backward(Arena& a, int64_t b, int64_t s) const {
    const int64_t t = b * s;
    for (int i = 0; i < 3; ++i) a.f32({t, cfg_.hidden_size});
    const uint64_t mark = a.mark();
    mlp_.declare_backward(a, t);
    a.release(mark);
    attention_.declare_backward(a, b, s, true);
  }

  void check_shape(int64_t b, int64_t s) const {
    if (b <= 0 || s <= 0)
      throw sdk::Error(MSW_STATUS_INVALID_ARGUMENT, "batch_size and seq_len must be positive, got " + std::to_string(b) +
                                                        " and " + std::to_string(s));
  }
  void check_layer(int64_t layer) const {
    if (layer < 0 || layer >= cfg_.num_layers)
      throw sdk::Error(MSW_STATUS_INVALID_ARGUMENT, "layer " + std::to_string(layer) + " is outside [0, " +
                                                        std::to_string(cfg_.num_layers) + ")");
  }
  // Validates the batch and a (B, S, H) tensor; returns T = B*S.
  int64_t check_batch(const msw_model_batch& batch, const msw_tensor* hidden, const char* name) const {
    check_shape(batch.batch_size, batch.seq_len);
    const int64_t b = batch.batch_size, s = batch.seq_len;
    auto require_bs = [&](const msw_tensor& t, const char* what) {
      if (t.ndim != 2 || t.shape[0] != b || t.shape[1] != s || t.dtype != MSW_DTYPE_I64)
        throw sdk::Error(MSW_STATUS_SHAPE_MISMATCH, std::string("batch ") + what + " is " + sdk::dtype_name(t.dtype) + " " +
                                                        sdk::shape_string(t) + ", expected int64 (" + std::to_string(b) +
                                                        ", " + std::to_string(s) + ")");
    };
    require_bs(batch.input_ids, "input_ids");
    if (batch.position_ids.data) require_bs(batch.position_ids, "position_ids");
    if (batch.labels.data) require_bs(batch.labels, "labels");
    if (hidden && (hidden->ndim != 3 || hidden->shape[0] != b || hidden->shape[1] != s ||
                   hidden->shape[2] != cfg_.hidden_size))
      throw sdk::Error(MSW_STATUS_SHAPE_MISMATCH, std::string(name) + " is " + sdk::shape_string(*hidden) +
                                                      ", expected (" + std::to_string(b) + ", " + std::to_string(s) +
                                                      ", " + std::to_string(cfg_.hidden_size) + ")");
    return b * s;
  }
  static const msw_tensor* positions_of(const msw_model_batch& batch) {
    return batch.position_ids.data ? &batch.position_ids : nullptr;
  }

  TransformerConfig cfg_;
  HfFamily family_;
  std::string config_text_;
  ParamTable table_;
  std::vector<int64_t> mapping_param_;  // mapping index -> parameter index
  LayerSlots layer_slots_;
  int head_norm_slot_ = 0;
  int head_output_slot_ = 1;
  Embedding embedding_;
  Norm norm_;
  SelfAttention attention_;
  Mlp mlp_;
  LmHead head_;
};

}  // namespace megaswift::nn
