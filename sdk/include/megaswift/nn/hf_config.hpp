// HF config.json <-> transformer config for the Llama-style decoders (Llama, Mistral, Qwen2, Qwen3), with the
// per-family rules a model plugin passes in. Reads both the classic keys (rope_theta, rope_scaling) and
// transformers 5's rope_parameters.
#pragma once

#include <megaswift/nn/transformer_config.hpp>

#include <string>
#include <tuple>
#include <string_view>

namespace megaswift::nn {

struct HfFamily {
  const char* plugin = "";          // the model plugin, for messages
  // q/k/v biases: Qwen2 always has them (its config has no switch); the others follow attention_bias.
  bool qkv_bias_always = false;
  bool qk_layernorm = false;        // Qwen3's q_norm / k_norm
  const char* architecture = "";    // architectures[0] written by to_hf_config, e.g. "Qwen2ForCausalLM"
  // The HF hidden_act values the family's gated MLP runs (NULL-terminated; NULL = {"silu", "swish"}).
  // Known values: silu, swish, gelu (erf), gelu_pytorch_tanh; the MLP of the plugin's layer spec must
  // implement the activation it accepts (nn::Mlp runs silu with the ops table's swiglu).
  const char* const* hidden_acts = nullptr;
  // Family rules the common keys do not cover (defaults that differ, extra fields), applied after them and
  // before validation. May be NULL.
  void (*customize)(const nlohmann::json& hf, TransformerConfig& c) = nullptr;
};

// The transformer config's activation_func for an HF hidden_act; empty when it has none.
inline std::string activation_func_of_hf(const std::string& hidden_act) {
  if (hidden_act == "silu" || hidden_act == "swish") return "silu";
  if (hidden_act == "gelu") return "gelu";
  if (hidden_act == "gelu_pytorch_tanh") return "gelu_tanh";
  return "";
}
inline const char* hf_hidden_act_of(const std::string& activation_func) {
  if (activation_func == "gelu") return "gelu";
  if (activation_func == "gelu_tanh") return "gelu_pytorch_tanh";
  return "silu";
}

namespace detail {

inline nlohmann::json parse_hf(std::string_view text) {
  try {
    auto j = nlohmann::json::parse(text);
    if (!j.is_object()) throw sdk::Error(MSW_STATUS_INVALID_ARGUMENT, "config.json is not a JSON object");
    return j;
  } catch (const nlohmann::json::exception& e) {
    throw sdk::Error(MSW_STATUS_INVALID_ARGUMENT, std::string("config.json is not valid JSON: ") + e.what());
  }
}

}  // namespace detail

inline TransformerConfig transformer_config_from_hf(const nlohmann::json& hf, const HfFamily& family) {
  const std::string model_type = hf.value("model_type", std::string());
  const std::string what_s = "the " + (model_type.empty() ? std::string(family.plugin) : model_type) + " config.json";
  const char* what = what_s.c_str();
  using detail::optional;
  using detail::required;

  TransformerConfig c;
  c.hf_model_type = model_type;
  c.num_layers = required<int64_t>(hf, "num_hidden_layers", what);
  c.hidden_size = required<int64_t>(hf, "hidden_size", what);
  c.ffn_hidden_size = required<int64_t>(hf, "intermediate_size", what);
  c.num_attention_heads = required<int64_t>(hf, "num_attention_heads", what);
  c.num_query_groups = optional<int64_t>(hf, "num_key_value_heads", c.num_attention_heads, what);
  c.vocab_size = required<int64_t>(hf, "vocab_size", what);
  c.padded_vocab_size = c.vocab_size;  // as ms-swift: no padding, so checkpoints keep HF's shapes
  c.max_position_embeddings = required<int64_t>(hf, "max_position_embeddings", what);
  c.norm_epsilon = required<double>(hf, "rms_norm_eps", what);
  // Checked under config.json's own names (the transformer config checks again under Megatron's, for other sources).
  for (auto [v, n, max] : {std::tuple{c.num_layers, "num_hidden_layers", detail::kMaxCount},
                           {c.hidden_size, "hidden_size", detail::kMaxWidth},
                           {c.ffn_hidden_size, "intermediate_size", detail::kMaxWidth},
                           {c.num_attention_heads, "num_attention_heads", detail::kMaxCount},
                           {c.num_query_groups, "num_key_value_heads", detail::kMaxCount},
                           {c.vocab_size, "vocab_size", detail::kMaxVocab},
                           {c.max_position_embeddings, "max_position_embeddings", detail::kMaxPositions}})
    detail::require_size(v, n, what, max);
  if (hf.contains("head_dim") && !hf["head_dim"].is_null()) {
    c.kv_channels = required<int64_t>(hf, "head_dim", what);
    detail::require_size(c.kv_channels, "head_dim", what, detail::kMaxWidth);
  } else {
    c.kv_channels = c.hidden_size / c.num_attention_heads;
    if (c.kv_channels == 0)
      throw sdk::Error(MSW_STATUS_INVALID_ARGUMENT, what_s + ": hidden_size (" + std::to_string(c.hidden_size) +
                                                        ") is smaller than num_attention_heads (" +
                                                        std::to_string(c.num_attention_heads) +
                                                        "), so a head would have no channels");
  }

  // RoPE: classic keys first, then transformers 5's rope_parameters (which carries rope_theta inside).
  const nlohmann::json rope_parameters = hf.value("rope_parameters", nlohmann::json());
  if (hf.contains("rope_theta") && !hf["rope_theta"].is_null()) {
    c.rotary_base = required<double>(hf, "rope_theta", what);
  } else if (rope_parameters.is_object() && rope_parameters.contains("rope_theta")) {
    c.rotary_base = required<double>(rope_parameters, "rope_theta", what);
  } else {
    throw sdk::Error(MSW_STATUS_INVALID_ARGUMENT, what_s + " is missing the field \"rope_theta\" (or "
                                                           "\"rope_parameters\": {\"rope_theta\": ...})");
  }
  const nlohmann::json rope_scaling = hf.value("rope_scaling", nlohmann::json());
  c.rope_scaling = rope_scaling_from_json(rope_scaling.is_null() ? rope_parameters : rope_scaling, what);
  if (c.rope_scaling.type == "llama3" && c.rope_scaling.original_max_position_embeddings <= 0)
    throw sdk::Error(MSW_STATUS_INVALID_ARGUMENT, what_s + ": llama3 rope scaling needs original_max_position_embeddings");
  c.rotary_percent = optional<double>(hf, "partial_rotary_factor", 1.0, what);

  // Gemma's configs name the MLP's activation hidden_activation (preferred when set), the others hidden_act.
  const std::string act = hf.contains("hidden_activation") && !hf["hidden_activation"].is_null()
                              ? required<std::string>(hf, "hidden_activation", what)
                              : optional<std::string>(hf, "hidden_act", "silu", what);
  static const char* const silu_only[] = {"silu", "swish", nullptr};
  const char* const* accepted = family.hidden_acts ? family.hidden_acts : silu_only;
  bool ok = false;
  std::string list;
  for (const char* const* a = accepted; *a; ++a) {
    ok = ok || act == *a;
    list += (list.empty() ? "" : ", ") + std::string(*a);
  }
  if (!ok || activation_func_of_hf(act).empty())
    throw sdk::Error(MSW_STATUS_UNSUPPORTED, what_s + ": hidden_act \"" + act + "\" is not supported by the " +
                                                 family.plugin + " model plugin (its gated MLP supports " + list + ")");
  c.gated_linear_unit = true;
  c.activation_func = activation_func_of_hf(act);

  const bool attention_bias = optional<bool>(hf, "attention_bias", false, what);
  const bool mlp_bias = optional<bool>(hf, "mlp_bias", false, what);
  if (family.qkv_bias_always) {
    c.add_qkv_bias = true;  // Qwen2: q/k/v biased, o_proj and the MLP not
    c.add_bias_linear = false;
  } else {
    // attention_bias puts biases on q, k, v AND o_proj; Megatron ties o_proj's bias to the MLP's
    // (add_bias_linear), so the two switches must agree.
    if (attention_bias != mlp_bias)
      throw sdk::Error(MSW_STATUS_UNSUPPORTED,
                       what_s + ": attention_bias=" + (attention_bias ? "true" : "false") + " with mlp_bias=" +
                           (mlp_bias ? "true" : "false") +
                           " cannot be expressed with Megatron's add_qkv_bias/add_bias_linear (o_proj's bias follows "
                           "the MLP's); only equal values are supported");
    c.add_qkv_bias = attention_bias;
    c.add_bias_linear = mlp_bias;
  }
  c.qk_layernorm = family.qk_layernorm;
  c.untie_embeddings_and_output_weights = !optional<bool>(hf, "tie_word_embeddings", false, what);
  c.init_method_std = optional<double>(hf, "initializer_range", 0.02, what);

  // Sliding-window attention: Mistral sets sliding_window; Qwen2/Qwen3 only when use_sliding_window.
  const bool window_switch = hf.contains("use_sliding_window");
  const bool window_on = window_switch ? optional<bool>(hf, "use_sliding_window", false, what) : true;
  if (window_on && hf.contains("sliding_window") && !hf["sliding_window"].is_null())
    c.sliding_window = required<int64_t>(hf, "sliding_window", what);

  if (family.customize) family.customize(hf, c);
  // Validate the combination through the transformer config parser (one set of rules).
  return transformer_config_from_json(to_json(c));
}

inline std::string transformer_config_text_from_hf(std::string_view hf_text, const HfFamily& family) {
  return to_json(transformer_config_from_hf(detail::parse_hf(hf_text), family)).dump(2);
}

// The HF config.json of a transformer config (export). Written with the classic keys (rope_theta,
// rope_scaling), which every transformers version reads.
inline nlohmann::json hf_config_from_transformer(const TransformerConfig& c, const HfFamily& family) {
  nlohmann::json j = {
      {"architectures", {family.architecture}},
      {"model_type", c.hf_model_type},
      {"hidden_size", c.hidden_size},
      {"intermediate_size", c.ffn_hidden_size},
      {"num_hidden_layers", c.num_layers},
      {"num_attention_heads", c.num_attention_heads},
      {"num_key_value_heads", c.num_query_groups},
      {"head_dim", c.kv_channels},
      {"hidden_act", hf_hidden_act_of(c.activation_func)},
      {"max_position_embeddings", c.max_position_embeddings},
      {"rms_norm_eps", c.norm_epsilon},
      {"rope_theta", c.rotary_base},
      {"rope_scaling", rope_scaling_to_json(c.rope_scaling)},
      {"tie_word_embeddings", c.tied()},
      {"vocab_size", c.vocab_size},
      {"initializer_range", c.init_method_std},
      {"attention_dropout", 0.0},
      {"torch_dtype", "float32"},
  };
  if (!family.qkv_bias_always) {
    j["attention_bias"] = c.add_qkv_bias;
    j["mlp_bias"] = c.add_bias_linear;
  }
  if (c.rotary_percent != 1.0) j["partial_rotary_factor"] = c.rotary_percent;
  j["sliding_window"] = c.sliding_window ? nlohmann::json(*c.sliding_window) : nlohmann::json(nullptr);
  if (c.hf_model_type == "qwen2" || c.hf_model_type == "qwen3") j["use_sliding_window"] = c.sliding_window.has_value();
  return j;
}

}  // namespace megaswift::nn

namespace megaswift::nn {

// config_from_hf of a model plugin: checks that config.json's model_type is one the plugin serves, then
// converts with that type's family rules.
inline std::string config_from_hf_for(std::string_view hf_text, const char* const* served,
                                      HfFamily (*family_of)(const std::string&)) {
  const nlohmann::json hf = detail::parse_hf(hf_text);
  auto it = hf.find("model_type");
  if (it == hf.end() || !it->is_string())
    throw sdk::Error(MSW_STATUS_INVALID_ARGUMENT, "config.json is missing the field \"model_type\"");
  const std::string type = it->get<std::string>();
  std::string list;
  for (const char* const* s = served; *s; ++s) {
    if (type == *s) return to_json(transformer_config_from_hf(hf, family_of(type))).dump(2);
    list += (list.empty() ? "" : ", ") + std::string(*s);
  }
  throw sdk::Error(MSW_STATUS_INVALID_ARGUMENT, "model_type \"" + type + "\" is not served by the " +
                                                    family_of(type).plugin + " model plugin (it serves " + list + ")");
}

}  // namespace megaswift::nn
