// The layer spec of a GPT decoder, in the spirit of Megatron-Core's ModuleSpec: which module builds each
// place of the model, so a plugin replaces one submodule without forking the decoder.
//
//   embedding            word embedding (optionally scaled)             nn::WordEmbedding
//   position_embedding   RoPE (every msw_rope_scaling variant)          nn::RotaryEmbedding
//   layer                the block and the order of its submodules      nn::TransformerLayer (pre-norm residual)
//     input_layernorm    norm before self-attention                     nn::RmsNorm
//     self_attention     QKV, q/k norms, RoPE, core attention, proj     nn::SelfAttention
//       q_layernorm, k_layernorm   per-head norms (qk_layernorm)        nn::RmsNorm
//     pre_mlp_layernorm  norm before the MLP                            nn::RmsNorm
//     mlp                fc1, activation, fc2                           nn::Mlp
//   final_layernorm      norm before the output layer                   nn::RmsNorm
//
// A member left empty is the default of the right column (gpt_layer_spec.hpp); GptModel fills them in.
// Factories run once per place and layer, with a ModuleContext naming the place, so layers may differ.
//
//   nn::ModelSpec spec;
//   spec.set_norms(nn::rms_norm(1.0));                   // every norm (1 + w), weights initialised to zeros
//   spec.mlp = nn::module<GeGluMlp>();                   // a subclass of nn::Mlp with its own activation step
//   spec.embedding = nn::word_embedding(nn::sqrt_hidden_size);   // hidden * sqrt(hidden_size)
//   class MyModel : public nn::GptModel { ... GptModel(config, family, spec) ... };
#pragma once

#include <megaswift/nn/module.hpp>
#include <megaswift/nn/norm.hpp>

#include <functional>
#include <memory>
#include <utility>

namespace megaswift::nn {

class WordEmbedding;
class PositionEmbedding;
struct ModelSpec;

using NormFactory = std::function<std::unique_ptr<Norm>(ModuleContext&, const NormSite&)>;
// Self-attention, the MLP and the layer: Modules on (T, H) built for one layer. The spec is passed so a
// module builds its own submodules from it.
using ModuleFactory = std::function<std::unique_ptr<Module>(ModuleContext&, const ModelSpec&)>;
using EmbeddingFactory = std::function<std::unique_ptr<WordEmbedding>(ModuleContext&)>;
using PositionFactory = std::function<std::unique_ptr<PositionEmbedding>(ModuleContext&)>;

struct ModelSpec {
  EmbeddingFactory embedding;
  PositionFactory position_embedding;
  ModuleFactory layer;
  NormFactory input_layernorm;
  ModuleFactory self_attention;
  NormFactory q_layernorm;
  NormFactory k_layernorm;
  NormFactory pre_mlp_layernorm;
  ModuleFactory mlp;
  NormFactory final_layernorm;

  // The same norm at every norm place (Gemma: every RMSNorm is zero-centred).
  ModelSpec& set_norms(const NormFactory& f) {
    input_layernorm = q_layernorm = k_layernorm = pre_mlp_layernorm = final_layernorm = f;
    return *this;
  }
};

// A factory for module class M, constructed as M(ModuleContext&, const ModelSpec&).
template <class M>
ModuleFactory module() {
  return [](ModuleContext& c, const ModelSpec& spec) -> std::unique_ptr<Module> { return std::make_unique<M>(c, spec); };
}

// RMSNorm with weight_offset (0: y = w * x / rms(x); 1: y = (1 + w) * x / rms(x), weights start at zero).
inline NormFactory rms_norm(double weight_offset = 0.0) {
  return [weight_offset](ModuleContext& c, const NormSite& site) -> std::unique_ptr<Norm> {
    if (c.config().normalization != "RMSNorm")
      throw sdk::Error(MSW_STATUS_UNSUPPORTED, "normalization " + c.config().normalization +
                                                   " is not supported by nn::RmsNorm; name a LayerNorm module in the "
                                                   "plugin's layer spec");
    return std::make_unique<RmsNorm>(c, site, weight_offset);
  };
}

}  // namespace megaswift::nn
