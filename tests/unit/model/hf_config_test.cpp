// HF config.json -> transformer config (Megatron names) for each family, both rope spellings, and the
// clear refusals; and the transformer config -> HF config.json -> transformer config round trip.
#include <megaswift/nn/hf_config.hpp>

#include <doctest/doctest.h>

using namespace megaswift;
using nlohmann::json;

namespace {

nn::HfFamily qwen2() { return {"qwen2", true, false, "Qwen2ForCausalLM"}; }
nn::HfFamily llama() { return {"llama", false, false, "LlamaForCausalLM"}; }
nn::HfFamily qwen3() { return {"qwen3", false, true, "Qwen3ForCausalLM"}; }

// The shape of Qwen2.5-0.5B-Instruct's config.json (classic keys).
json qwen2_5_small() {
  return json::parse(R"({
    "architectures": ["Qwen2ForCausalLM"], "model_type": "qwen2", "hidden_act": "silu", "hidden_size": 896,
    "intermediate_size": 4864, "max_position_embeddings": 32768, "max_window_layers": 21,
    "num_attention_heads": 14, "num_hidden_layers": 24, "num_key_value_heads": 2, "rms_norm_eps": 1e-06,
    "rope_theta": 1000000.0, "sliding_window": 32768, "tie_word_embeddings": true, "torch_dtype": "bfloat16",
    "use_sliding_window": false, "vocab_size": 151936, "initializer_range": 0.02})");
}

std::string error_of(const json& hf, const nn::HfFamily& f) {
  try {
    nn::transformer_config_from_hf(hf, f);
  } catch (const sdk::Error& e) {
    return e.what();
  }
  return "";
}

}  // namespace

TEST_CASE("a Qwen2.5 config.json becomes Megatron's fields with qkv bias and tied embeddings") {
  const nn::TransformerConfig c = nn::transformer_config_from_hf(qwen2_5_small(), qwen2());
  CHECK(c.hf_model_type == "qwen2");
  CHECK(c.num_layers == 24);
  CHECK(c.hidden_size == 896);
  CHECK(c.ffn_hidden_size == 4864);
  CHECK(c.num_attention_heads == 14);
  CHECK(c.num_query_groups == 2);
  CHECK(c.kv_channels == 64);
  CHECK(c.rotary_base == 1000000.0);
  CHECK(c.rope_scaling.type == "none");
  CHECK(c.norm_epsilon == doctest::Approx(1e-6));
  CHECK(c.add_qkv_bias);
  CHECK_FALSE(c.add_bias_linear);
  CHECK_FALSE(c.qk_layernorm);
  CHECK_FALSE(c.untie_embeddings_and_output_weights);
  CHECK(c.vocab_size == 151936);
  CHECK(c.padded_vocab_size == 151936);
  CHECK_FALSE(c.sliding_window.has_value());  // use_sliding_window is false
  const json j = nn::to_json(c);
  CHECK(j["group_query_attention"] == true);
  CHECK(j["untie_embeddings_and_output_weights"] == false);
}

TEST_CASE("Llama 3.1 rope_scaling (classic key) and transformers 5 rope_parameters give the same llama3 config") {
  json classic = json::parse(R"({"model_type": "llama", "hidden_size": 4096, "intermediate_size": 14336,
    "num_hidden_layers": 32, "num_attention_heads": 32, "num_key_value_heads": 8, "vocab_size": 128256,
    "max_position_embeddings": 131072, "rms_norm_eps": 1e-05, "rope_theta": 500000.0, "attention_bias": false,
    "mlp_bias": false, "rope_scaling": {"factor": 8.0, "low_freq_factor": 1.0, "high_freq_factor": 4.0,
    "original_max_position_embeddings": 8192, "rope_type": "llama3"}})");
  json v5 = classic;
  v5.erase("rope_theta");
  v5.erase("rope_scaling");
  v5["rope_parameters"] = classic["rope_scaling"];
  v5["rope_parameters"]["rope_theta"] = 500000.0;
  for (const json& hf : {classic, v5}) {
    const nn::TransformerConfig c = nn::transformer_config_from_hf(hf, llama());
    CHECK(c.rotary_base == 500000.0);
    CHECK(c.rope_scaling.type == "llama3");
    CHECK(c.rope_scaling.factor == 8.0);
    CHECK(c.rope_scaling.high_freq_factor == 4.0);
    CHECK(c.rope_scaling.original_max_position_embeddings == 8192);
    CHECK_FALSE(c.add_qkv_bias);
    CHECK(c.untie_embeddings_and_output_weights);
  }
}

TEST_CASE("the legacy rope_scaling spelling {type: linear} is read") {
  json hf = qwen2_5_small();
  hf["model_type"] = "llama";
  hf["rope_scaling"] = {{"type", "linear"}, {"factor", 2.0}};
  const nn::TransformerConfig c = nn::transformer_config_from_hf(hf, llama());
  CHECK(c.rope_scaling.type == "linear");
  CHECK(c.rope_scaling.factor == 2.0);
}

TEST_CASE("Mistral's sliding_window is kept (no use_sliding_window switch) and head_dim is read") {
  json hf = qwen2_5_small();
  hf["model_type"] = "mistral";
  hf.erase("use_sliding_window");
  hf["sliding_window"] = 4096;
  hf["head_dim"] = 128;
  const nn::TransformerConfig c = nn::transformer_config_from_hf(hf, llama());
  REQUIRE(c.sliding_window.has_value());
  CHECK(*c.sliding_window == 4096);
  CHECK(c.kv_channels == 128);
}

TEST_CASE("Qwen3 takes head_dim from the config and turns on qk_layernorm") {
  json hf = qwen2_5_small();
  hf["model_type"] = "qwen3";
  hf["hidden_size"] = 2048;
  hf["num_attention_heads"] = 16;
  hf["num_key_value_heads"] = 8;
  hf["head_dim"] = 128;
  hf["attention_bias"] = false;
  const nn::TransformerConfig c = nn::transformer_config_from_hf(hf, qwen3());
  CHECK(c.kv_channels == 128);
  CHECK(c.q_width() == 2048);
  CHECK(c.qk_layernorm);
  CHECK_FALSE(c.add_qkv_bias);
}

TEST_CASE("missing required fields are named") {
  for (const char* field : {"num_hidden_layers", "hidden_size", "intermediate_size", "num_attention_heads",
                            "vocab_size", "max_position_embeddings", "rms_norm_eps"}) {
    CAPTURE(field);
    json hf = qwen2_5_small();
    hf.erase(field);
    const std::string e = error_of(hf, qwen2());
    CHECK(e.find(std::string("missing the field \"") + field + "\"") != std::string::npos);
  }
}

TEST_CASE("a field of the wrong type is named with its value") {
  json hf = qwen2_5_small();
  hf["num_hidden_layers"] = "twenty";
  CHECK(error_of(hf, qwen2()).find("\"num_hidden_layers\" has the wrong type (\"twenty\")") != std::string::npos);
}

TEST_CASE("attention_bias without mlp_bias is refused with the reason") {
  json hf = qwen2_5_small();
  hf["model_type"] = "llama";
  hf["attention_bias"] = true;
  const std::string e = error_of(hf, llama());
  CHECK(e.find("attention_bias=true with mlp_bias=false") != std::string::npos);
}

TEST_CASE("a non-SiLU activation is refused by name") {
  json hf = qwen2_5_small();
  hf["hidden_act"] = "gelu";
  CHECK(error_of(hf, qwen2()).find("hidden_act \"gelu\"") != std::string::npos);
}

TEST_CASE("a family that accepts gelu_pytorch_tanh gets a gated gelu_tanh MLP, written back as the same hidden_act") {
  static const char* const acts[] = {"gelu_pytorch_tanh", nullptr};
  nn::HfFamily gemma_like = llama();
  gemma_like.hidden_acts = acts;
  json hf = qwen2_5_small();
  hf["model_type"] = "llama";
  hf["hidden_act"] = "gelu_pytorch_tanh";
  const nn::TransformerConfig c = nn::transformer_config_from_hf(hf, gemma_like);
  CHECK(c.gated_linear_unit);
  CHECK(c.activation_func == "gelu_tanh");
  CHECK_FALSE(c.swiglu());
  CHECK(nn::hf_config_from_transformer(c, gemma_like)["hidden_act"] == "gelu_pytorch_tanh");
  CHECK(nn::to_json(nn::transformer_config_from_json(nn::to_json(c))) == nn::to_json(c));
  // The family that does not list it still refuses it, listing what it runs.
  CHECK(error_of(hf, llama()).find("its gated MLP supports silu, swish") != std::string::npos);
}

TEST_CASE("hidden_activation wins over hidden_act, and a family's customize hook runs before validation") {
  static const char* const acts[] = {"gelu_pytorch_tanh", nullptr};
  nn::HfFamily f = llama();
  f.hidden_acts = acts;
  f.customize = [](const json& hf, nn::TransformerConfig& c) {
    c.untie_embeddings_and_output_weights = !hf.value("tie_word_embeddings", true);  // a family tied by default
  };
  json hf = qwen2_5_small();
  hf["model_type"] = "llama";
  hf.erase("tie_word_embeddings");
  hf["hidden_act"] = "gelu";
  hf["hidden_activation"] = "gelu_pytorch_tanh";
  const nn::TransformerConfig c = nn::transformer_config_from_hf(hf, f);
  CHECK(c.activation_func == "gelu_tanh");
  CHECK(c.tied());
}

TEST_CASE("heads that do not group evenly over kv heads are refused") {
  json hf = qwen2_5_small();
  hf["num_key_value_heads"] = 3;
  CHECK(error_of(hf, qwen2()).find("multiple of num_query_groups") != std::string::npos);
}

TEST_CASE("transformer config -> HF config.json -> transformer config is the identity") {
  json hf = qwen2_5_small();
  hf["model_type"] = "llama";
  hf["rope_scaling"] = {{"rope_type", "yarn"}, {"factor", 4.0}, {"original_max_position_embeddings", 32768},
                        {"beta_fast", 16.0}};
  const nn::TransformerConfig c = nn::transformer_config_from_hf(hf, llama());
  const json back = nn::hf_config_from_transformer(c, llama());
  CHECK(back["architectures"][0] == "LlamaForCausalLM");
  CHECK(back["tie_word_embeddings"] == true);
  const nn::TransformerConfig again = nn::transformer_config_from_hf(back, llama());
  CHECK(nn::to_json(again) == nn::to_json(c));
}

TEST_CASE("a transformer config without num_layers is refused naming the field") {
  json j = nn::to_json(nn::transformer_config_from_hf(qwen2_5_small(), qwen2()));
  j.erase("num_layers");
  CHECK_THROWS_WITH_AS(nn::transformer_config_from_json(j), doctest::Contains("missing the field \"num_layers\""),
                       sdk::Error);
}

TEST_CASE("a plugin refuses a config.json of a model_type it does not serve") {
  static const char* const served[] = {"qwen2", nullptr};
  json hf = qwen2_5_small();
  hf["model_type"] = "llama";
  CHECK_THROWS_WITH_AS(nn::config_from_hf_for(hf.dump(), served, [](const std::string&) { return qwen2(); }),
                       doctest::Contains("\"llama\" is not served by the qwen2 model plugin (it serves qwen2)"),
                       sdk::Error);
}
