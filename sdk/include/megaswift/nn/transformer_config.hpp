// The transformer config of a GPT-style decoder, with Megatron's argument names, and its JSON form (the text
// that crosses the model ABI: msw_model_vtable.config_from_hf writes it, create reads it).
//
// Needs nlohmann/json (header-only; Debian nlohmann-json3-dev, CMake target nlohmann_json::nlohmann_json).
#pragma once

#include <megaswift/c/tensor.h>
#include <megaswift/sdk/status.hpp>

#include <nlohmann/json.hpp>

#include <cmath>
#include <cstdint>
#include <limits>
#include <optional>
#include <string>
#include <tuple>
#include <type_traits>

namespace megaswift::nn {

// HF rope_scaling / rope_parameters, resolved: which variant and its numbers (ops.h msw_rope_config).
struct RopeScalingConfig {
  std::string type = "none";  // none, linear, dynamic, llama3, yarn
  double factor = 1.0;
  int64_t original_max_position_embeddings = 0;
  double low_freq_factor = 1.0;
  double high_freq_factor = 4.0;
  double beta_fast = 32.0;
  double beta_slow = 1.0;
  double mscale = 0.0;
  double mscale_all_dim = 0.0;
  std::optional<double> attention_factor;
  bool truncate = true;
};

struct TransformerConfig {
  std::string hf_model_type;            // the HF model_type the config came from ("qwen2", "llama", ...)
  int64_t num_layers = 0;
  int64_t hidden_size = 0;
  int64_t ffn_hidden_size = 0;
  int64_t num_attention_heads = 0;
  int64_t num_query_groups = 0;         // kv heads
  int64_t kv_channels = 0;              // head dim
  int64_t max_position_embeddings = 0;
  double rotary_base = 10000.0;
  double rotary_percent = 1.0;
  RopeScalingConfig rope_scaling;
  std::string normalization = "RMSNorm";  // RMSNorm or LayerNorm
  double norm_epsilon = 1e-5;
  // The MLP: Megatron's --swiglu is gated_linear_unit with silu. activation_func: silu, gelu (erf) or
  // gelu_tanh (PyTorch's approximate="tanh", HF's gelu_pytorch_tanh).
  bool gated_linear_unit = true;
  std::string activation_func = "silu";
  bool add_qkv_bias = false;
  bool add_bias_linear = false;         // biases of linear_proj, linear_fc1, linear_fc2
  bool qk_layernorm = false;
  bool untie_embeddings_and_output_weights = true;
  int64_t vocab_size = 0;               // the tokenizer's
  int64_t padded_vocab_size = 0;        // rows of the embedding and the output layer
  double init_method_std = 0.02;
  std::optional<int64_t> sliding_window;  // attention window; sequences longer than it are refused
  // none, selective or full. Attention keeps no probabilities (flash semantics), so selective keeps what
  // none keeps; full makes the host call layer_forward again before layer_backward.
  std::string recompute_granularity = "selective";
  // The dtype of the weights the compute reads and of the activations (Megatron's params_dtype under --bf16 /
  // --fp16): float32, bfloat16 or float16. The host keeps fp32 main weights and gradients beside 16-bit ones.
  std::string params_dtype = "float32";
  // Bytes of logits the head holds at once (at least one token's): its chunks of tokens. Small on a CPU, where a
  // chunk should stay in cache; the host raises it on a GPU, where every chunk re-reads and re-writes the whole
  // fp32 gradient of the output layer, so a few large chunks cost far less than many small ones.
  uint64_t logits_chunk_bytes = uint64_t{32} << 20;
  // Whether the head keeps every chunk's logits (T x V in the activation dtype) from forward for backward, as
  // Megatron keeps its logits, instead of recomputing them with one more output-layer GEMM. The same bits either
  // way; the host turns it on on a GPU unless recompute is full.
  bool keep_logits = false;

  int32_t activation_dtype() const {
    return params_dtype == "bfloat16" ? MSW_DTYPE_BF16 : params_dtype == "float16" ? MSW_DTYPE_F16 : MSW_DTYPE_F32;
  }
  int64_t head_dim() const { return kv_channels; }
  int64_t q_width() const { return num_attention_heads * kv_channels; }
  int64_t kv_width() const { return num_query_groups * kv_channels; }
  int64_t qkv_width() const { return q_width() + 2 * kv_width(); }
  bool tied() const { return !untie_embeddings_and_output_weights; }
  bool swiglu() const { return gated_linear_unit && activation_func == "silu"; }
};

namespace detail {

inline const nlohmann::json& field(const nlohmann::json& j, const char* name, const char* what) {
  auto it = j.find(name);
  if (it == j.end() || it->is_null())
    throw sdk::Error(MSW_STATUS_INVALID_ARGUMENT,
                     std::string(what) + " is missing the field \"" + name + "\"");
  return *it;
}

template <class V>
V get_as(const nlohmann::json& v, const char* name, const char* what) {
  if constexpr (std::is_integral_v<V> && !std::is_same_v<V, bool>) {
    // nlohmann turns a float into an integer with a plain cast, undefined behaviour outside the integer's range
    // (a config.json "max_position_embeddings": 8.9e112 did that); NaN fails both comparisons.
    if (v.is_number_float()) {
      const double d = v.get<double>();
      if (!(d >= static_cast<double>(std::numeric_limits<V>::min()) &&
            d < std::ldexp(1.0, std::numeric_limits<V>::digits)))
        throw sdk::Error(MSW_STATUS_INVALID_ARGUMENT, std::string(what) + ": field \"" + name + "\" is " + v.dump() +
                                                          ", outside the range of an integer");
    }
  }
  try {
    return v.get<V>();
  } catch (const nlohmann::json::exception&) {
    throw sdk::Error(MSW_STATUS_INVALID_ARGUMENT, std::string(what) + ": field \"" + name + "\" has the wrong type (" +
                                                      v.dump() + ")");
  }
}

template <class V>
V required(const nlohmann::json& j, const char* name, const char* what) {
  return get_as<V>(field(j, name, what), name, what);
}

template <class V>
V optional(const nlohmann::json& j, const char* name, V fallback, const char* what) {
  auto it = j.find(name);
  if (it == j.end() || it->is_null()) return fallback;
  return get_as<V>(*it, name, what);
}

inline void require_positive(int64_t v, const char* name, const char* what) {
  if (v <= 0)
    throw sdk::Error(MSW_STATUS_INVALID_ARGUMENT,
                     std::string(what) + ": \"" + name + "\" must be positive, got " + std::to_string(v));
}

// Upper bounds on config sizes, far above any released model (hidden 16384, intermediate 53248, 126 layers, vocab
// 262144, 10M positions): a typo or a corrupt config.json fails here, by name, instead of as an integer overflow or
// an allocation of terabytes when the model is built.
inline constexpr int64_t kMaxWidth = int64_t{1} << 20;           // hidden, intermediate, head dim
inline constexpr int64_t kMaxCount = int64_t{1} << 16;           // layers, heads, query groups
inline constexpr int64_t kMaxVocab = int64_t{1} << 24;
inline constexpr int64_t kMaxPositions = int64_t{1} << 28;

inline void require_size(int64_t v, const char* name, const char* what, int64_t max) {
  require_positive(v, name, what);
  if (v > max)
    throw sdk::Error(MSW_STATUS_INVALID_ARGUMENT, std::string(what) + ": \"" + name + "\" is " + std::to_string(v) +
                                                      ", more than " + std::to_string(max) +
                                                      " (no model is that large; check the value)");
}

}  // namespace detail

inline nlohmann::json rope_scaling_to_json(const RopeScalingConfig& r) {
  if (r.type == "none") return nullptr;
  nlohmann::json j = {{"rope_type", r.type}, {"factor", r.factor}};
  if (r.type == "llama3") {
    j["low_freq_factor"] = r.low_freq_factor;
    j["high_freq_factor"] = r.high_freq_factor;
  }
  if (r.original_max_position_embeddings > 0) j["original_max_position_embeddings"] = r.original_max_position_embeddings;
  if (r.type == "yarn") {
    j["beta_fast"] = r.beta_fast;
    j["beta_slow"] = r.beta_slow;
    if (r.mscale != 0) j["mscale"] = r.mscale;
    if (r.mscale_all_dim != 0) j["mscale_all_dim"] = r.mscale_all_dim;
    if (r.attention_factor) j["attention_factor"] = *r.attention_factor;
    if (!r.truncate) j["truncate"] = false;
  }
  return j;
}

// Reads an HF-style rope_scaling object ({"rope_type" or "type": ..., "factor": ...}); null or "default" is none.
inline RopeScalingConfig rope_scaling_from_json(const nlohmann::json& j, const char* what) {
  RopeScalingConfig r;
  if (j.is_null()) return r;
  if (!j.is_object())
    throw sdk::Error(MSW_STATUS_INVALID_ARGUMENT, std::string(what) + ": rope_scaling must be an object or null");
  std::string type = detail::optional<std::string>(j, "rope_type", "", what);
  if (type.empty()) type = detail::optional<std::string>(j, "type", "default", what);
  if (type == "default" || type == "none") return r;
  if (type != "linear" && type != "dynamic" && type != "llama3" && type != "yarn")
    throw sdk::Error(MSW_STATUS_UNSUPPORTED, std::string(what) + ": rope_scaling type \"" + type +
                                                 "\" is not supported (supported: default, linear, dynamic, llama3, yarn)");
  r.type = type;
  r.factor = detail::required<double>(j, "factor", what);
  r.original_max_position_embeddings = detail::optional<int64_t>(j, "original_max_position_embeddings", 0, what);
  if (type == "llama3") {
    r.low_freq_factor = detail::required<double>(j, "low_freq_factor", what);
    r.high_freq_factor = detail::required<double>(j, "high_freq_factor", what);
    detail::field(j, "original_max_position_embeddings", what);
  }
  if (type == "yarn") {
    r.beta_fast = detail::optional<double>(j, "beta_fast", 32.0, what);
    r.beta_slow = detail::optional<double>(j, "beta_slow", 1.0, what);
    r.mscale = detail::optional<double>(j, "mscale", 0.0, what);
    r.mscale_all_dim = detail::optional<double>(j, "mscale_all_dim", 0.0, what);
    if (j.contains("attention_factor") && !j["attention_factor"].is_null())
      r.attention_factor = detail::get_as<double>(j["attention_factor"], "attention_factor", what);
    r.truncate = detail::optional<bool>(j, "truncate", true, what);
  }
  return r;
}

inline nlohmann::json to_json(const TransformerConfig& c) {
  nlohmann::json j = {
      {"hf_model_type", c.hf_model_type},
      {"num_layers", c.num_layers},
      {"hidden_size", c.hidden_size},
      {"ffn_hidden_size", c.ffn_hidden_size},
      {"num_attention_heads", c.num_attention_heads},
      {"num_query_groups", c.num_query_groups},
      {"group_query_attention", c.num_query_groups != c.num_attention_heads},
      {"kv_channels", c.kv_channels},
      {"max_position_embeddings", c.max_position_embeddings},
      {"position_embedding_type", "rope"},
      {"rotary_base", c.rotary_base},
      {"rotary_percent", c.rotary_percent},
      {"rope_scaling", rope_scaling_to_json(c.rope_scaling)},
      {"normalization", c.normalization},
      {"norm_epsilon", c.norm_epsilon},
      {"swiglu", c.swiglu()},
      {"gated_linear_unit", c.gated_linear_unit},
      {"activation_func", c.activation_func},
      {"add_qkv_bias", c.add_qkv_bias},
      {"add_bias_linear", c.add_bias_linear},
      {"qk_layernorm", c.qk_layernorm},
      {"untie_embeddings_and_output_weights", c.untie_embeddings_and_output_weights},
      {"vocab_size", c.vocab_size},
      {"padded_vocab_size", c.padded_vocab_size},
      {"init_method_std", c.init_method_std},
      {"attention_softmax_in_fp32", true},
      {"recompute_granularity", c.recompute_granularity},
      {"params_dtype", c.params_dtype},
      {"logits_chunk_bytes", c.logits_chunk_bytes},
      {"keep_logits", c.keep_logits},
  };
  j["sliding_window"] = c.sliding_window ? nlohmann::json(*c.sliding_window) : nlohmann::json(nullptr);
  return j;
}

// Parses and validates a transformer config; errors name the missing or bad field.
inline TransformerConfig transformer_config_from_json(const nlohmann::json& j) {
  constexpr const char* what = "transformer config";
  using detail::optional;
  using detail::required;
  if (!j.is_object()) throw sdk::Error(MSW_STATUS_INVALID_ARGUMENT, "transformer config is not a JSON object");
  TransformerConfig c;
  c.hf_model_type = optional<std::string>(j, "hf_model_type", "", what);
  c.num_layers = required<int64_t>(j, "num_layers", what);
  c.hidden_size = required<int64_t>(j, "hidden_size", what);
  c.ffn_hidden_size = required<int64_t>(j, "ffn_hidden_size", what);
  c.num_attention_heads = required<int64_t>(j, "num_attention_heads", what);
  c.num_query_groups = optional<int64_t>(j, "num_query_groups", c.num_attention_heads, what);
  for (auto [v, n, max] : {std::tuple{c.num_layers, "num_layers", detail::kMaxCount},
                           {c.hidden_size, "hidden_size", detail::kMaxWidth},
                           {c.ffn_hidden_size, "ffn_hidden_size", detail::kMaxWidth},
                           {c.num_attention_heads, "num_attention_heads", detail::kMaxCount},
                           {c.num_query_groups, "num_query_groups", detail::kMaxCount}})
    detail::require_size(v, n, what, max);
  if (c.num_attention_heads % c.num_query_groups != 0)
    throw sdk::Error(MSW_STATUS_INVALID_ARGUMENT,
                     "transformer config: num_attention_heads (" + std::to_string(c.num_attention_heads) +
                         ") must be a multiple of num_query_groups (" + std::to_string(c.num_query_groups) + ")");
  if (j.contains("kv_channels") && !j["kv_channels"].is_null()) {
    c.kv_channels = required<int64_t>(j, "kv_channels", what);
  } else {
    if (c.hidden_size % c.num_attention_heads != 0)
      throw sdk::Error(MSW_STATUS_INVALID_ARGUMENT,
                       "transformer config: kv_channels is absent and hidden_size is not a multiple of num_attention_heads");
    c.kv_channels = c.hidden_size / c.num_attention_heads;
  }
  detail::require_size(c.kv_channels, "kv_channels", what, detail::kMaxWidth);
  c.max_position_embeddings = optional<int64_t>(j, "max_position_embeddings", 4096, what);
  detail::require_size(c.max_position_embeddings, "max_position_embeddings", what, detail::kMaxPositions);
  c.rotary_base = required<double>(j, "rotary_base", what);
  c.rotary_percent = optional<double>(j, "rotary_percent", 1.0, what);
  c.rope_scaling = rope_scaling_from_json(j.value("rope_scaling", nlohmann::json()), what);
  c.normalization = optional<std::string>(j, "normalization", "RMSNorm", what);
  if (c.normalization != "RMSNorm" && c.normalization != "LayerNorm")
    throw sdk::Error(MSW_STATUS_INVALID_ARGUMENT, "transformer config: normalization must be RMSNorm or LayerNorm, got \"" +
                                                      c.normalization + "\"");
  c.norm_epsilon = required<double>(j, "norm_epsilon", what);
  // --swiglu wins (Megatron sets gated_linear_unit and silu from it); otherwise the two explicit fields.
  if (optional<bool>(j, "swiglu", !j.contains("gated_linear_unit") && !j.contains("activation_func"), what)) {
    c.gated_linear_unit = true;
    c.activation_func = "silu";
  } else {
    c.gated_linear_unit = optional<bool>(j, "gated_linear_unit", false, what);
    c.activation_func = optional<std::string>(j, "activation_func", "gelu", what);
  }
  if (c.activation_func != "silu" && c.activation_func != "gelu" && c.activation_func != "gelu_tanh")
    throw sdk::Error(MSW_STATUS_INVALID_ARGUMENT, "transformer config: activation_func must be silu, gelu or gelu_tanh, "
                                                  "got \"" + c.activation_func + "\"");
  c.add_qkv_bias = optional<bool>(j, "add_qkv_bias", false, what);
  c.add_bias_linear = optional<bool>(j, "add_bias_linear", false, what);
  c.qk_layernorm = optional<bool>(j, "qk_layernorm", false, what);
  c.untie_embeddings_and_output_weights = optional<bool>(j, "untie_embeddings_and_output_weights", true, what);
  if (j.contains("padded_vocab_size") && !j["padded_vocab_size"].is_null()) {
    c.padded_vocab_size = required<int64_t>(j, "padded_vocab_size", what);
    c.vocab_size = optional<int64_t>(j, "vocab_size", c.padded_vocab_size, what);
  } else {
    c.vocab_size = required<int64_t>(j, "vocab_size", what);
    c.padded_vocab_size = c.vocab_size;
  }
  detail::require_size(c.vocab_size, "vocab_size", what, detail::kMaxVocab);
  detail::require_size(c.padded_vocab_size, "padded_vocab_size", what, detail::kMaxVocab);
  if (c.padded_vocab_size < c.vocab_size)
    throw sdk::Error(MSW_STATUS_INVALID_ARGUMENT, "transformer config: padded_vocab_size (" +
                                                      std::to_string(c.padded_vocab_size) + ") is smaller than vocab_size (" +
                                                      std::to_string(c.vocab_size) + ")");
  c.init_method_std = optional<double>(j, "init_method_std", 0.02, what);
  if (j.contains("sliding_window") && !j["sliding_window"].is_null())
    c.sliding_window = required<int64_t>(j, "sliding_window", what);
  c.recompute_granularity = optional<std::string>(j, "recompute_granularity", "selective", what);
  c.params_dtype = optional<std::string>(j, "params_dtype", "float32", what);
  c.logits_chunk_bytes = optional<uint64_t>(j, "logits_chunk_bytes", uint64_t{32} << 20, what);
  if (c.logits_chunk_bytes == 0)
    throw sdk::Error(MSW_STATUS_INVALID_ARGUMENT, "transformer config: logits_chunk_bytes must be positive");
  c.keep_logits = optional<bool>(j, "keep_logits", false, what);
  if (c.params_dtype != "float32" && c.params_dtype != "bfloat16" && c.params_dtype != "float16")
    throw sdk::Error(MSW_STATUS_INVALID_ARGUMENT, "transformer config: params_dtype must be float32, bfloat16 or "
                                                  "float16, got \"" + c.params_dtype + "\"");
  if (c.recompute_granularity != "selective" && c.recompute_granularity != "none" && c.recompute_granularity != "full")
    throw sdk::Error(MSW_STATUS_INVALID_ARGUMENT, "transformer config: recompute_granularity must be selective, full or "
                                                  "none, got \"" + c.recompute_granularity + "\"");
  return c;
}

inline TransformerConfig transformer_config_from_text(std::string_view text) {
  nlohmann::json j;
  try {
    j = nlohmann::json::parse(text);
  } catch (const nlohmann::json::exception& e) {
    throw sdk::Error(MSW_STATUS_INVALID_ARGUMENT, std::string("transformer config is not valid JSON: ") + e.what());
  }
  return transformer_config_from_json(j);
}

}  // namespace megaswift::nn
