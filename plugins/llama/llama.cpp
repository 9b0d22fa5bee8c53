// Model plugin "llama": Llama 2 / 3 / 3.1 (rope_scaling type llama3) and Mistral decoders.
#include <megaswift/nn/gpt_model.hpp>
#include <megaswift/sdk/model.hpp>
#include <megaswift/sdk/plugin.hpp>

namespace {

using namespace megaswift;

nn::HfFamily llama_family(const std::string& model_type) {
  nn::HfFamily f;
  f.plugin = "llama";
  f.qkv_bias_always = false;  // attention_bias / mlp_bias decide
  f.architecture = model_type == "mistral" ? "MistralForCausalLM" : "LlamaForCausalLM";
  return f;
}

class LlamaModel final : public nn::GptModel {
 public:
  explicit LlamaModel(std::string_view config_json) : GptModel(config_json, llama_family) {}
  static const char* const* hf_model_types() {
    static const char* const types[] = {"llama", "mistral", nullptr};
    return types;
  }
  static std::string config_from_hf(std::string_view hf) {
    return nn::config_from_hf_for(hf, hf_model_types(), llama_family);
  }
};

}  // namespace

MEGASWIFT_PLUGIN("llama", "0.1.0",
                 megaswift::sdk::model_component<LlamaModel>("llama", "0.1.0",
                                                             "Llama 2/3/3.1 and Mistral decoders (HF model_type "
                                                             "llama, mistral)"))
