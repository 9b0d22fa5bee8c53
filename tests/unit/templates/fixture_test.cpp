// Must-show 3: our templates + the hf_bpe tokenizer give the token ids of transformers'
// apply_chat_template (tests/fixtures/templates/chat_fixtures.json, made by make_chat_fixtures.py),
// and the labels follow the mask rules: loss exactly on each trained answer and its end-of-turn.
#include "real_tokenizers.hpp"
#include "template_plugin.hpp"

#include "host/data/encoder/sample_encoder.hpp"

#include <doctest/doctest.h>
#include <nlohmann/json.hpp>

#include <fstream>

using megaswift::data::EncoderOptions;
using megaswift::data::SampleEncoder;
using megaswift::test::make_template;
using megaswift::test::real_tokenizer;
using nlohmann::json;

namespace {

json fixtures() {
  std::ifstream in(std::string(MSW_SOURCE_DIR) + "/tests/fixtures/templates/chat_fixtures.json");
  REQUIRE_MESSAGE(in.good(), "tests/fixtures/templates/chat_fixtures.json is missing");
  return json::parse(in);
}

std::vector<int32_t> expected_labels(const std::vector<int32_t>& ids, const json& ranges) {
  std::vector<int32_t> labels(ids.size(), -100);
  for (const auto& r : ranges)
    for (size_t k = r[0].get<size_t>(); k < r[1].get<size_t>(); ++k) labels[k] = ids[k];
  labels[0] = -100;
  return labels;
}

}  // namespace

TEST_CASE("chat template token ids equal transformers' apply_chat_template for Qwen2.5, Llama 3 and Qwen3") {
  json doc = fixtures();
  REQUIRE(doc["cases"].size() >= 8);
  for (const json& c : doc["cases"]) {
    CAPTURE(c["name"].get<std::string>());
    auto tmpl = make_template(c["template"]);
    const auto& tok = real_tokenizer(c["tokenizer"]);
    EncoderOptions opt;
    opt.template_options_json = c["options"].dump();
    SampleEncoder encoder(*tmpl, tok, opt);
    const std::string conversation = c["conversation"].dump();
    const auto ids = c["ids"].get<std::vector<int32_t>>();
    bool prompt = c["options"].value("add_generation_prompt", false);

    json render_options = c["options"];
    CHECK(tmpl->render(conversation, render_options.dump()).text() == c["text"].get<std::string>());
    if (prompt) {
      CHECK(encoder.encode_prompt(conversation) == ids);
      continue;
    }
    auto result = encoder.encode(conversation);
    REQUIRE(result.samples.size() == 1);
    CHECK(result.samples[0].input_ids == ids);
    CHECK(result.samples[0].trained_tokens() > 0);
    CHECK(result.samples[0].labels == expected_labels(ids, c["trained_ranges"]));
    CHECK(result.samples[0].loss_scale.empty());
  }
}
