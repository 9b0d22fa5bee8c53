// Model plugin "gemma": Google's Gemma (HF GemmaForCausalLM), written on the SDK's layer spec without
// forking the decoder. Gemma differs from a Llama-style decoder in three places, each one override:
//   - every RMSNorm multiplies by (1 + w), with w stored zero-centred   -> nn::rms_norm(1.0)
//   - the gated MLP uses gelu(tanh) instead of SiLU                      -> GegluMlp, on this plugin's own op
//   - the embedding output is scaled by sqrt(hidden_size)                -> nn::word_embedding(sqrt_hidden_size)
// and its head_dim (kv_channels, 256 in the released models) is independent of hidden / heads, which the
// decoder already allows. Embeddings are tied unless tie_word_embeddings is false.
#include "geglu_op.hpp"

#include <megaswift/nn/gpt_model.hpp>
#include <megaswift/sdk/model.hpp>
#include <megaswift/sdk/plugin.hpp>

#include <nlohmann/json.hpp>

#include <string>
#include <string_view>

namespace {

using namespace megaswift;

// The MLP's activation step through the op this plugin registered (gemma.geglu_*): the host dispatches it
// by the device of the call, so a CUDA implementation registered under the same name is picked up as is.
class GegluMlp final : public nn::Mlp {
 public:
  using nn::Mlp::Mlp;

 protected:
  void activation_forward(const nn::Step& st, nn::Arena&, const msw_tensor& fc1_out, const msw_tensor& act) const override {
    gemma::GegluArgs a{};
    a.struct_size = sizeof(a);
    a.x = fc1_out;
    a.out = act;
    sdk::check(sdk::host().call_op(gemma::kGegluForward, &st.ops.ctx(), &a));
  }
  void activation_backward(const nn::Step& st, nn::Arena&, const msw_tensor& fc1_out, const msw_tensor& dact,
                           const msw_tensor& dfc1) const override {
    gemma::GegluArgs a{};
    a.struct_size = sizeof(a);
    a.x = fc1_out;
    a.dout = dact;
    a.dx = dfc1;
    sdk::check(sdk::host().call_op(gemma::kGegluBackward, &st.ops.ctx(), &a));
  }
};

nn::HfFamily gemma_family(const std::string&) {
  static const char* const activations[] = {"gelu_pytorch_tanh", nullptr};
  nn::HfFamily f;
  f.plugin = "gemma";
  f.architecture = "GemmaForCausalLM";
  f.hidden_acts = activations;
  // Gemma ties its embeddings unless the config says otherwise (GemmaConfig's default is True).
  f.customize = [](const nlohmann::json& hf, nn::TransformerConfig& c) {
    c.untie_embeddings_and_output_weights = !hf.value("tie_word_embeddings", true);
  };
  return f;
}

nn::ModelSpec gemma_spec() {
  nn::ModelSpec spec;
  spec.set_norms(nn::rms_norm(1.0));
  spec.mlp = nn::module<GegluMlp>();
  spec.embedding = nn::word_embedding(nn::sqrt_hidden_size);
  return spec;
}

class GemmaModel final : public nn::GptModel {
 public:
  explicit GemmaModel(std::string_view config_json) : GptModel(config_json, gemma_family, spec_with_ops()) {}

  static const char* const* hf_model_types() {
    static const char* const types[] = {"gemma", nullptr};
    return types;
  }
  static std::string config_from_hf(std::string_view hf) {
    return nn::config_from_hf_for(hf, hf_model_types(), gemma_family);
  }
  // Gemma's configs name the MLP activation hidden_activation; write both names so transformers reads it
  // without falling back to its default.
  std::string config_to_hf() const override {
    nlohmann::json hf = nlohmann::json::parse(GptModel::config_to_hf());
    hf["hidden_activation"] = hf["hidden_act"];
    hf["model_type"] = "gemma";
    return hf.dump(2);
  }

 private:
  // The MLP calls gemma.geglu_* from its first forward on, so the ops are registered before the decoder is
  // built (once per process, however many instances are created).
  static nn::ModelSpec spec_with_ops() {
    gemma::register_geglu_ops();
    return gemma_spec();
  }
};

}  // namespace

MEGASWIFT_PLUGIN("gemma", "0.1.0",
                 megaswift::sdk::model_component<GemmaModel>("gemma", "0.1.0",
                                                             "Google Gemma (HF model_type gemma), example plugin"))
