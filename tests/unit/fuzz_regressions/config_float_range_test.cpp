// fuzz_hf_config: config.json "max_position_embeddings": 8.9e112 reached nlohmann's float-to-int64 cast, which is
// undefined behaviour outside int64's range (UBSan: "outside the range of representable values of type 'long'").
// The SDK's field reader (megaswift/nn/transformer_config.hpp) now refuses such a float by name.
#include <megaswift/nn/hf_config.hpp>

#include <doctest/doctest.h>

#include <limits>
#include <string>

namespace {

std::string qwen2_config(const std::string& max_positions) {
  return R"({"model_type": "qwen2", "hidden_size": 64, "intermediate_size": 128, "num_hidden_layers": 2,
             "num_attention_heads": 4, "num_key_value_heads": 2, "vocab_size": 128, "rms_norm_eps": 1e-6,
             "rope_theta": 10000.0, "max_position_embeddings": )" + max_positions + "}";
}

std::string conversion_error(const std::string& config) {
  static const char* const kTypes[] = {"qwen2", nullptr};
  try {
    (void)megaswift::nn::config_from_hf_for(config, kTypes, [](const std::string&) {
      megaswift::nn::HfFamily f;
      f.plugin = "qwen2";
      return f;
    });
  } catch (const megaswift::sdk::Error& e) {
    return e.what();
  }
  return "(no error)";
}

}  // namespace

TEST_CASE("a config.json size given as a float beyond int64 is refused by name, not cast") {
  for (const char* value : {"8.888888888888889e112", "-1e300", "9.3e18"}) {
    INFO(value);
    const std::string message = conversion_error(qwen2_config(value));
    CHECK(message.find("max_position_embeddings") != std::string::npos);
    CHECK(message.find("outside the range of an integer") != std::string::npos);
  }
}

TEST_CASE("a config.json size written as a whole float (64.0) still converts") {
  CHECK(conversion_error(qwen2_config("64.0")) == "(no error)");
}
