// Model plugin "qwen3": Qwen3 dense decoders (per-head q_norm/k_norm, no qkv bias, head_dim from the config).
#include <megaswift/nn/gpt_model.hpp>
#include <megaswift/sdk/model.hpp>
#include <megaswift/sdk/plugin.hpp>

namespace {

using namespace megaswift;

nn::HfFamily qwen3_family(const std::string&) {
  nn::HfFamily f;
  f.plugin = "qwen3";
  f.qkv_bias_always = false;  // attention_bias (false in released Qwen3 models)
  f.qk_layernorm = true;
  f.architecture = "Qwen3ForCausalLM";
  return f;
}

class Qwen3Model final : public nn::GptModel {
 public:
  explicit Qwen3Model(std::string_view config_json) : GptModel(config_json, qwen3_family) {}
  static const char* const* hf_model_types() {
    static const char* const types[] = {"qwen3", nullptr};
    return types;
  }
  static std::string config_from_hf(std::string_view hf) {
    return nn::config_from_hf_for(hf, hf_model_types(), qwen3_family);
  }
};

}  // namespace

MEGASWIFT_PLUGIN("qwen3", "0.1.0",
                 megaswift::sdk::model_component<Qwen3Model>("qwen3", "0.1.0",
                                                             "Qwen3 dense decoders (HF model_type qwen3)"))
