// Model plugin "qwen2": Qwen2 and Qwen2.5 decoders (q/k/v biases, tied embeddings when tie_word_embeddings).
#include <megaswift/nn/gpt_model.hpp>
#include <megaswift/sdk/model.hpp>
#include <megaswift/sdk/plugin.hpp>

namespace {

using namespace megaswift;

nn::HfFamily qwen2_family(const std::string&) {
  nn::HfFamily f;
  f.plugin = "qwen2";
  f.qkv_bias_always = true;  // Qwen2's q/k/v projections always carry a bias; o_proj and the MLP never do
  f.architecture = "Qwen2ForCausalLM";
  return f;
}

class Qwen2Model final : public nn::GptModel {
 public:
  explicit Qwen2Model(std::string_view config_json) : GptModel(config_json, qwen2_family) {}
  static const char* const* hf_model_types() {
    static const char* const types[] = {"qwen2", nullptr};
    return types;
  }
  static std::string config_from_hf(std::string_view hf) {
    return nn::config_from_hf_for(hf, hf_model_types(), qwen2_family);
  }
};

}  // namespace

MEGASWIFT_PLUGIN("qwen2", "0.1.0",
                 megaswift::sdk::model_component<Qwen2Model>("qwen2", "0.1.0",
                                                             "Qwen2 / Qwen2.5 decoders (HF model_type qwen2)"))
