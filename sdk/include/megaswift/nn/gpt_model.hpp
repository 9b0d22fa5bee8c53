// A complete model plugin implementation for GPT decoders built from a layer spec (layer_spec.hpp). With the
// default spec it is the Llama-style decoder (Llama 2/3/3.1, Mistral, Qwen2/2.5, Qwen3): pre-norm RMSNorm
// layers, fused QKV attention with GQA, RoPE variants, optional qkv bias and qk-norm, SwiGLU MLP, optional
// tied output layer. A plugin derives from GptModel, names the HF model types it serves, the per-family
// config rules (HfFamily) and, when its architecture differs, the submodules it replaces (ModelSpec).
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
// Activations are [S, B, H] of the config's params_dtype (fp32, or bf16/fp16 beside the host's fp32 main
// weights and gradients); packed (THD) batches, selective and full recompute and KV-cache decoding
// (layer_decode: each row's keys then values, fp32, in its cache row) are supported (capabilities()); tensor,
// sequence, context and pipeline parallelism are not declared, so the host refuses layouts that need them.
// There is no dropout (the supported families train with attention and hidden dropout 0), so rng_offset and
// training do not change the result and a recompute replays the forward exactly.
#pragma once

#include <megaswift/nn/arena.hpp>
#include <megaswift/nn/attention.hpp>
#include <megaswift/nn/cross_entropy.hpp>
#include <megaswift/nn/embedding.hpp>
#include <megaswift/nn/gpt_layer_spec.hpp>
#include <megaswift/nn/hf_config.hpp>
#include <megaswift/nn/hf_layout.hpp>
#include <megaswift/nn/layer_spec.hpp>
#include <megaswift/nn/mlp.hpp>
#include <megaswift/nn/module.hpp>
#include <megaswift/nn/norm.hpp>
#include <megaswift/nn/param_table.hpp>
#include <megaswift/nn/transformer_config.hpp>
#include <megaswift/nn/transformer_layer.hpp>
#include <megaswift/sdk/model.hpp>
#include <megaswift/sdk/ops.hpp>

#include <algorithm>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace megaswift::nn {

class GptModel : public sdk::Model {
 public:
  using FamilyOf = HfFamily (*)(const std::string& hf_model_type);

  // `spec`: the submodules that differ from gpt_layer_spec() (empty members are its defaults).
  GptModel(std::string_view config_json, FamilyOf family_of, ModelSpec spec = {})
      : cfg_(transformer_config_from_text(config_json)), family_(family_of(cfg_.hf_model_type)),
        spec_(with_defaults(std::move(spec))) {
    config_text_ = to_json(cfg_).dump(2);
    build();
  }

  const TransformerConfig& config() const { return cfg_; }
  const ModelSpec& spec() const { return spec_; }

  // ---- part 1 ----
  msw_model_info describe() const override {
    msw_model_info i{};
    i.struct_size = sizeof(msw_model_info);
    i.activation_dtype = cfg_.activation_dtype();
    i.num_layers = cfg_.num_layers;
    i.hidden_size = cfg_.hidden_size;
    i.vocab_size = cfg_.vocab_size;
    i.padded_vocab_size = cfg_.padded_vocab_size;
    i.max_position_embeddings = cfg_.max_position_embeddings;
    return i;
  }
  msw_model_caps capabilities() const override {
    msw_model_caps c{};
    c.struct_size = sizeof(msw_model_caps);
    c.flags = MSW_CAP_PACKED_SEQUENCES | MSW_CAP_RECOMPUTE_SELECTIVE | MSW_CAP_RECOMPUTE_FULL | MSW_CAP_DECODE;
    c.activation_dtypes = (uint64_t{1} << MSW_DTYPE_F32) | (uint64_t{1} << MSW_DTYPE_BF16) | (uint64_t{1} << MSW_DTYPE_F16);
    c.max_tensor_parallel = 1;
    c.max_context_parallel = 1;
    return c;
  }
  const std::string& config_json() const override { return config_text_; }
  std::string config_to_hf() const override { return hf_config_from_transformer(cfg_, family_).dump(2); }

  // ---- part 2 ----
  int64_t param_count() const override { return table_.size(); }
  msw_param_info param_info(int64_t index) const override { return table_.info(index); }
  int64_t hf_mapping_count() const override { return table_.mapping_count(); }
  msw_hf_mapping hf_mapping(int64_t index) const override { return table_.mapping_record(index); }
  void hf_to_megatron(int64_t index, const msw_tensor* hf, size_t hf_count, const msw_tensor& out) const override {
    convert(index, hf, hf_count, out, true);
  }
  void megatron_to_hf(int64_t index, const msw_tensor& megatron, const msw_tensor* hf, size_t hf_count) const override {
    convert(index, hf, hf_count, megatron, false);
  }

  // ---- part 3 ----
  sdk::ModelMemory memory(const msw_model_shape& shape, bool recompute_full) const override {
    const Geometry g = Geometry::planned(shape);
    sdk::ModelMemory m;
    m.embedding_saved = embedding_->saved_bytes(g);
    m.head_saved = head_->saved_bytes(g);
    m.workspace = std::max(embedding_->workspace_bytes(g), head_->workspace_bytes(g));
    for (const auto& layer : layers_) {
      const uint64_t saved = layer->saved_bytes(g), ws = layer->workspace_bytes(g);
      // Under full recompute the first forward keeps nothing: it carves its saved tensors from the workspace.
      m.layer_saved.push_back(recompute_full ? 0 : saved);
      m.kv_bytes_per_token.push_back(layer->kv_bytes_per_token());
      m.workspace = std::max(m.workspace, recompute_full ? planned_bytes([&](Arena& a) {
                                                             a.reserve(saved);
                                                             a.reserve(ws);
                                                           })
                                                         : ws);
    }
    return m;
  }

  void embedding_forward(const msw_exec_ctx& ctx, const msw_model_call& call) override {
    const Call c(*this, ctx, call, embedding_ids_);
    const msw_tensor out = hidden_rows(call.output, c.geo, "embedding_forward: output");
    Arena sv(call.saved, "embedding saved"), ws(call.workspace, "workspace");
    embedding_->forward(c.step, sv, ws, out);
  }
  void embedding_backward(const msw_exec_ctx& ctx, const msw_model_call& call) override {
    const Call c(*this, ctx, call, embedding_ids_);
    const msw_tensor d = hidden_rows(call.d_output, c.geo, "embedding_backward: d_output");
    Arena sv(call.saved, "embedding saved"), ws(call.workspace, "workspace");
    embedding_->backward(c.step, sv, ws, d);
  }
  void layer_forward(const msw_exec_ctx& ctx, const msw_model_call& call) override {
    const Module& layer = layer_at(call.layer);
    const Call c(*this, ctx, call, layer_ids_[static_cast<size_t>(call.layer)]);
    const msw_tensor x = hidden_rows(call.input, c.geo, "layer_forward: input");
    const msw_tensor y = hidden_rows(call.output, c.geo, "layer_forward: output");
    if (msw_tensor_data(x) == msw_tensor_data(y))
      throw sdk::Error(MSW_STATUS_INVALID_ARGUMENT, "layer_forward: input and output must not alias");
    Arena ws(call.workspace, "workspace");
    const bool keeps = !msw_tensor_is_absent(&call.saved);
    Arena sv = keeps ? Arena(call.saved, "layer saved") : ws.sub(layer.saved_bytes(c.geo), "recompute-full saved");
    layer.forward(c.step, sv, ws, x, y);
  }
  void layer_backward(const msw_exec_ctx& ctx, const msw_model_call& call) override {
    const Module& layer = layer_at(call.layer);
    const Call c(*this, ctx, call, layer_ids_[static_cast<size_t>(call.layer)]);
    const msw_tensor x = hidden_rows(call.input, c.geo, "layer_backward: input");
    const msw_tensor dy = hidden_rows(call.d_output, c.geo, "layer_backward: d_output");
    const msw_tensor dx = hidden_rows(call.d_input, c.geo, "layer_backward: d_input");
    Arena sv(call.saved, "layer saved"), ws(call.workspace, "workspace");
    layer.backward(c.step, sv, ws, x, dy, dx, false);
  }
  // As layer_forward under full recompute (the layer keeps nothing), attending over the call's KV cache.
  void layer_decode(const msw_exec_ctx& ctx, const msw_model_call& call) {
    const Module& layer = layer_at(call.layer);
    const Call c(*this, ctx, call, layer_ids_[static_cast<size_t>(call.layer)]);
    const msw_tensor x = hidden_rows(call.input, c.geo, "layer_decode: input");
    const msw_tensor y = hidden_rows(call.output, c.geo, "layer_decode: output");
    if (msw_tensor_data(x) == msw_tensor_data(y))
      throw sdk::Error(MSW_STATUS_INVALID_ARGUMENT, "layer_decode: input and output must not alias");
    const int64_t rows = c.geo.packed ? c.geo.num_sequences : c.geo.b;
    const KvCache cache = KvCache::of(call, layer.kv_bytes_per_token(), rows);
    Arena ws(call.workspace, "workspace");
    Arena sv = ws.sub(layer.saved_bytes(c.geo), "decode scratch");
    layer.decode(c.step, sv, ws, cache, x, y);
  }
  void head_forward(const msw_exec_ctx& ctx, const msw_model_call& call) override {
    const Call c(*this, ctx, call, head_ids_);
    const msw_tensor x = hidden_rows(call.input, c.geo, "head_forward: input");
    Arena sv(call.saved, "head saved"), ws(call.workspace, "workspace");
    head_->forward(c.step, sv, ws, x);
  }
  void head_backward(const msw_exec_ctx& ctx, const msw_model_call& call) override {
    const Call c(*this, ctx, call, head_ids_);
    const msw_tensor x = hidden_rows(call.input, c.geo, "head_backward: input");
    const msw_tensor dx = hidden_rows(call.d_input, c.geo, "head_backward: d_input");
    Arena sv(call.saved, "head saved"), ws(call.workspace, "workspace");
    head_->backward(c.step, sv, ws, x, dx);
  }

 private:
  // What every compute entry starts with: the ops, the batch geometry, the part's parameters.
  struct Call {
    sdk::Ops ops;
    Geometry geo;
    Params params;
    Step step;
    Call(const GptModel&, const msw_exec_ctx& ctx, const msw_model_call& call, const PartIds& ids)
        : ops(ctx), geo(Geometry::of(*call.batch)), params(ids, call), step{ops, call, params, geo} {}
  };

  void build() {
    embedding_ = spec_.embedding(*context(MSW_MODEL_PART_EMBEDDING, -1));
    for (int32_t i = 0; i < cfg_.num_layers; ++i) layers_.push_back(spec_.layer(*context(MSW_MODEL_PART_LAYER, i), spec_));
    head_ = std::make_unique<LmHead>(*context(MSW_MODEL_PART_HEAD, -1), spec_,
                                     cfg_.tied() ? embedding_->weight() : kNoParam);
    embedding_ids_ = PartIds(table_.part_indices(MSW_MODEL_PART_EMBEDDING), "embedding");
    head_ids_ = PartIds(table_.part_indices(MSW_MODEL_PART_HEAD), "head");
    for (int32_t i = 0; i < cfg_.num_layers; ++i)
      layer_ids_.emplace_back(table_.part_indices(MSW_MODEL_PART_LAYER, i), "layer " + std::to_string(i));
  }
  std::unique_ptr<ModuleContext> context(msw_model_part part, int32_t layer) {
    const bool in_layer = part == MSW_MODEL_PART_LAYER;
    return std::make_unique<ModuleContext>(cfg_, table_, part, layer,
                                           in_layer ? "decoder.layers." + std::to_string(layer) + "." : "",
                                           in_layer ? "model.layers." + std::to_string(layer) + "." : "");
  }

  const Module& layer_at(int64_t layer) const {
    if (layer < 0 || layer >= cfg_.num_layers)
      throw sdk::Error(MSW_STATUS_INVALID_ARGUMENT, "layer " + std::to_string(layer) + " is outside [0, " +
                                                        std::to_string(cfg_.num_layers) + ")");
    return *layers_[static_cast<size_t>(layer)];
  }

  static const void* msw_tensor_data(const msw_tensor& t) { return static_cast<const char*>(t.data) + t.byte_offset; }

  // A hidden-state tensor of the call, checked to be dense [S, B, H] of the activation dtype, as (T, H) rows.
  msw_tensor hidden_rows(const msw_tensor& t, const Geometry& g, const char* what) const {
    if (t.ndim != 3 || t.shape[0] != g.s || t.shape[1] != g.b || t.shape[2] != cfg_.hidden_size ||
        t.dtype != cfg_.activation_dtype() || !msw_tensor_is_contiguous(&t))
      throw sdk::Error(MSW_STATUS_SHAPE_MISMATCH, std::string(what) + " is " + sdk::dtype_name(t.dtype) + " " +
                                                      sdk::shape_string(t) + ", expected dense " +
                                                      sdk::dtype_name(cfg_.activation_dtype()) + " [S, B, H] = (" +
                                                      std::to_string(g.s) + ", " + std::to_string(g.b) + ", " +
                                                      std::to_string(cfg_.hidden_size) + ")");
    return rows_view(t, g.t(), cfg_.hidden_size);
  }

  void convert(int64_t index, const msw_tensor* hf, size_t hf_count, const msw_tensor& megatron, bool to_megatron) const {
    const msw_hf_mapping record = table_.mapping_record(index);
    const ParamSpec& p = table_[table_.mapping_param(index)];
    bool ok = megatron.ndim == static_cast<int32_t>(p.shape.size());
    for (size_t d = 0; ok && d < p.shape.size(); ++d) ok = megatron.shape[d] == p.shape[d];
    if (!ok)
      throw sdk::Error(MSW_STATUS_SHAPE_MISMATCH, p.name + " is " + sdk::shape_string(megatron) +
                                                      ", expected its global shape from the parameter table");
    apply_hf_layout(record, hf, hf_count, megatron, to_megatron, cfg_.num_attention_heads / cfg_.num_query_groups,
                    cfg_.kv_channels);
  }

  TransformerConfig cfg_;
  HfFamily family_;
  ModelSpec spec_;
  std::string config_text_;
  ParamTable table_;
  std::unique_ptr<WordEmbedding> embedding_;
  std::vector<std::unique_ptr<Module>> layers_;
  std::unique_ptr<LmHead> head_;
  PartIds embedding_ids_, head_ids_;
  std::vector<PartIds> layer_ids_;
};

}  // namespace megaswift::nn
