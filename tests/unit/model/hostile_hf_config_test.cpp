// Hostile config.json values (issue 12): sizes of zero or below, and sizes no model has, are refused under
// config.json's own field names before anything is allocated; before the fix a zero or negative intermediate_size,
// vocab_size or max_position_embeddings (and sizes in the billions) went through to the model builder.
#include <megaswift/nn/hf_config.hpp>

#include <doctest/doctest.h>

using namespace megaswift;
using nlohmann::json;

namespace {

nn::HfFamily qwen2() { return {"qwen2", true, false, "Qwen2ForCausalLM"}; }

json small_config() {
  return json::parse(R"({
    "model_type": "qwen2", "hidden_act": "silu", "hidden_size": 64, "intermediate_size": 128,
    "max_position_embeddings": 256, "num_attention_heads": 4, "num_hidden_layers": 2, "num_key_value_heads": 2,
    "rms_norm_eps": 1e-06, "rope_theta": 10000.0, "tie_word_embeddings": true, "vocab_size": 1000})");
}

std::string error_with(const char* field, const json& value) {
  json hf = small_config();
  hf[field] = value;
  try {
    nn::transformer_config_from_hf(hf, qwen2());
  } catch (const sdk::Error& e) {
    CHECK(e.code() == MSW_STATUS_INVALID_ARGUMENT);
    return e.what();
  }
  return "(no error)";
}

}  // namespace

TEST_CASE("config.json sizes of zero or below are refused, naming the field and the value") {
  for (const char* field : {"hidden_size", "num_hidden_layers", "num_attention_heads", "num_key_value_heads",
                            "intermediate_size", "vocab_size", "max_position_embeddings", "head_dim"}) {
    for (const int64_t bad : {int64_t{0}, int64_t{-1}, int64_t{-4096}}) {
      CAPTURE(field);
      CAPTURE(bad);
      CHECK(error_with(field, bad) == std::string("the qwen2 config.json: \"") + field + "\" must be positive, got " +
                                          std::to_string(bad));
    }
  }
}

TEST_CASE("config.json sizes no model has are refused with the bound, before any allocation") {
  struct Case {
    const char* field;
    int64_t value;
    const char* bound;
  };
  const Case cases[] = {
      {"hidden_size", int64_t{1} << 40, "1048576"},          {"intermediate_size", int64_t{1} << 21, "1048576"},
      {"num_hidden_layers", 100000, "65536"},                {"num_attention_heads", int64_t{1} << 20, "65536"},
      {"vocab_size", int64_t{1} << 30, "16777216"},          {"max_position_embeddings", int64_t{1} << 40, "268435456"},
      {"head_dim", INT64_MAX, "1048576"},
  };
  for (const Case& c : cases) {
    CAPTURE(c.field);
    CHECK(error_with(c.field, c.value) == std::string("the qwen2 config.json: \"") + c.field + "\" is " +
                                              std::to_string(c.value) + ", more than " + c.bound +
                                              " (no model is that large; check the value)");
  }
}

TEST_CASE("a hidden_size smaller than the head count (heads with no channels) is refused") {
  json hf = small_config();
  hf["hidden_size"] = 2;
  std::string message;
  try {
    nn::transformer_config_from_hf(hf, qwen2());
  } catch (const sdk::Error& e) {
    message = e.what();
  }
  CHECK(message == "the qwen2 config.json: hidden_size (2) is smaller than num_attention_heads (4), so a head would "
                   "have no channels");
}

TEST_CASE("a transformer config (Megatron names) with a nonsensical max_position_embeddings is refused") {
  json j = nn::to_json(nn::transformer_config_from_hf(small_config(), qwen2()));
  for (const int64_t bad : {int64_t{0}, int64_t{-2}}) {
    j["max_position_embeddings"] = bad;
    CHECK_THROWS_WITH_AS(nn::transformer_config_from_json(j),
                         ("transformer config: \"max_position_embeddings\" must be positive, got " +
                          std::to_string(bad)).c_str(),
                         sdk::Error);
  }
}

TEST_CASE("the sizes of a real small model still pass") {
  const nn::TransformerConfig c = nn::transformer_config_from_hf(small_config(), qwen2());
  CHECK(c.hidden_size == 64);
  CHECK(c.max_position_embeddings == 256);
}
