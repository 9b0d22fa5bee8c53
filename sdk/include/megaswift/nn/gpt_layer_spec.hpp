// The default GPT layer spec (Megatron-Core's get_gpt_layer_with_transformer_engine_spec, Llama-style): RMSNorm
// everywhere, SelfAttention with RoPE, the gated MLP, pre-norm residual layers, an unscaled word embedding.
// with_defaults() fills the members a plugin's spec left empty.
#pragma once

#include <megaswift/nn/attention.hpp>
#include <megaswift/nn/embedding.hpp>
#include <megaswift/nn/layer_spec.hpp>
#include <megaswift/nn/mlp.hpp>
#include <megaswift/nn/norm.hpp>
#include <megaswift/nn/rope.hpp>
#include <megaswift/nn/transformer_layer.hpp>

#include <memory>

namespace megaswift::nn {

inline ModelSpec gpt_layer_spec() {
  ModelSpec s;
  s.embedding = word_embedding();
  s.position_embedding = [](ModuleContext& c) -> std::unique_ptr<PositionEmbedding> {
    return std::make_unique<RotaryEmbedding>(c);
  };
  s.layer = module<TransformerLayer>();
  s.self_attention = module<SelfAttention>();
  s.mlp = module<Mlp>();
  s.set_norms(rms_norm());
  return s;
}

// `spec` with every empty member taken from gpt_layer_spec().
inline ModelSpec with_defaults(ModelSpec spec) {
  const ModelSpec d = gpt_layer_spec();
  if (!spec.embedding) spec.embedding = d.embedding;
  if (!spec.position_embedding) spec.position_embedding = d.position_embedding;
  if (!spec.layer) spec.layer = d.layer;
  if (!spec.input_layernorm) spec.input_layernorm = d.input_layernorm;
  if (!spec.self_attention) spec.self_attention = d.self_attention;
  if (!spec.q_layernorm) spec.q_layernorm = d.q_layernorm;
  if (!spec.k_layernorm) spec.k_layernorm = d.k_layernorm;
  if (!spec.pre_mlp_layernorm) spec.pre_mlp_layernorm = d.pre_mlp_layernorm;
  if (!spec.mlp) spec.mlp = d.mlp;
  if (!spec.final_layernorm) spec.final_layernorm = d.final_layernorm;
  return spec;
}

}  // namespace megaswift::nn
