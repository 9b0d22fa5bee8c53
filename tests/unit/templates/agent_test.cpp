// Tool calls and tool results (ms-swift's agent roles) in the templates: the Qwen family writes them in
// hermes format as Qwen's HF chat template does; the others refuse them. Trained text is shown in [[...]].
#include "template_plugin.hpp"

#include "host/core/host_api.hpp"
#include "host/core/status.hpp"

#include <doctest/doctest.h>
#include <nlohmann/json.hpp>

#include <fstream>
#include <string>
#include <utility>
#include <vector>

using megaswift::sdk::Error;
using megaswift::test::make_template;
using megaswift::test::marked;
using megaswift::test::conv;
using megaswift::test::render;
using megaswift::test::render_error;
using nlohmann::json;

namespace {

const std::string kCall = R"({"name": "get_weather", "arguments": {"city": "Paris", "unit": "celsius"}})";
const std::string kCallText =
    "<tool_call>\n{\"name\": \"get_weather\", \"arguments\": {\"city\": \"Paris\", \"unit\": \"celsius\"}}\n</tool_call>";

}  // namespace

TEST_CASE("qwen2_5 writes a tool_call in hermes format inside the assistant's turn and trains on it") {
  auto c = conv({{"system", "S"},
                 {"user", "Weather in Paris?"},
                 {"tool_call", kCall},
                 {"tool_response", R"({"temp": 21})"},
                 {"assistant", "It is 21 degrees."}});
  CHECK(render("qwen2_5", c) ==
        "<|im_start|>system\nS<|im_end|>\n<|im_start|>user\nWeather in Paris?<|im_end|>\n<|im_start|>assistant\n"
        "[[" + kCallText + "<|im_end|>\n]]"
        "<|im_start|>user\n<tool_response>\n{\"temp\": 21}\n</tool_response><|im_end|>\n<|im_start|>assistant\n"
        "[[It is 21 degrees.<|im_end|>\n]]");
}

TEST_CASE("assistant text and consecutive tool_calls form one assistant turn; consecutive results one user turn") {
  auto c = conv({{"user", "Q"},
                 {"assistant", "Let me check."},
                 {"tool_call", kCall},
                 {"tool_call", R"({"name": "get_time", "parameters": "{\"tz\": \"CET\"}"})"},
                 {"tool_response", "21"},
                 {"tool", "12:00"},
                 {"assistant", "21 degrees at noon."}});
  CHECK(render("qwen", c) ==
        "<|im_start|>system\nYou are a helpful assistant.<|im_end|>\n<|im_start|>user\nQ<|im_end|>\n"
        "<|im_start|>assistant\n[[Let me check.\n" + kCallText +
        "\n<tool_call>\n{\"name\": \"get_time\", \"arguments\": {\"tz\": \"CET\"}}\n</tool_call><|im_end|>\n]]"
        "<|im_start|>user\n<tool_response>\n21\n</tool_response>\n<tool_response>\n12:00\n</tool_response>"
        "<|im_end|>\n<|im_start|>assistant\n[[21 degrees at noon.<|im_end|>\n]]");
}

TEST_CASE("a tool_call that is not a JSON call object is written as it is; loss false on it is honoured") {
  json m = json::array({{{"role", "user"}, {"content", "Q"}},
                        {{"role", "tool_call"}, {"content", "search('x')"}, {"loss", false}},
                        {{"role", "tool_response"}, {"content", "r"}},
                        {{"role", "assistant"}, {"content", "A"}}});
  CHECK(render("qwen3", json{{"messages", m}}.dump()) ==
        "<|im_start|>user\nQ<|im_end|>\n<|im_start|>assistant\n<think>\n\n</think>\n\n"
        "<tool_call>\nsearch('x')\n</tool_call><|im_end|>\n"
        "<|im_start|>user\n<tool_response>\nr\n</tool_response><|im_end|>\n<|im_start|>assistant\n"
        "<think>\n\n</think>\n\n[[A<|im_end|>\n]]");
}

TEST_CASE("tool results can end a generation prompt") {
  auto c = conv({{"user", "Q"}, {"tool_call", kCall}, {"tool_response", "21"}});
  CHECK(make_template("qwen2_5")->render(c, R"({"add_generation_prompt": true, "system": ""})").text() ==
        "<|im_start|>user\nQ<|im_end|>\n<|im_start|>assistant\n" + kCallText +
            "<|im_end|>\n<|im_start|>user\n<tool_response>\n21\n</tool_response><|im_end|>\n"
            "<|im_start|>assistant\n");
}

TEST_CASE("loss_scale all trains on the tool results too") {
  auto c = conv({{"user", "Q"}, {"tool_call", kCall}, {"tool_response", "21"}, {"assistant", "A"}});
  auto r = make_template("qwen2_5")->render(c, R"({"loss_scale": "all", "system": ""})");
  CHECK(r.text().find("<tool_response>\n21\n</tool_response>") != std::string::npos);
  CHECK(marked(r) == "[[" + r.text() + "]]");
}

TEST_CASE("templates without an agent format refuse tool_call and tool_response naming the message and template") {
  std::string m;
  for (const char* name : {"llama3", "default"}) {
    CAPTURE(name);
    CHECK(render_error(name, conv({{"user", "Q"}, {"tool_call", kCall}, {"tool_response", "21"}, {"assistant", "A"}}),
                       "{}", &m) == MSW_STATUS_UNSUPPORTED);
    CHECK(m.find("conversation message 1 has role \"tool_call\"") != std::string::npos);
    CHECK(m.find(std::string("template '") + name + "'") != std::string::npos);
    CHECK(render_error(name, conv({{"user", "Q"}, {"assistant", "A"}, {"tool", "42"}, {"assistant", "B"}}), "{}", &m) ==
          MSW_STATUS_UNSUPPORTED);
    CHECK(m.find("conversation message 2 has role \"tool_response\"") != std::string::npos);
  }
}

TEST_CASE("tool results next to a user message are refused: no answer between them to train on") {
  std::string m;
  CHECK(render_error("qwen", conv({{"user", "Q"}, {"tool_response", "21"}, {"assistant", "A"}}), "{}", &m) ==
        MSW_STATUS_INVALID_ARGUMENT);
  CHECK(m.find("conversation message 1 (tool_response) directly follows a user message") != std::string::npos);
}

TEST_CASE("qwen2_5 renders tool conversations as Qwen2.5's HF chat template does (agent_text_fixtures.json)") {
  std::ifstream in(std::string(MSW_SOURCE_DIR) + "/tests/fixtures/templates/agent_text_fixtures.json");
  REQUIRE_MESSAGE(in.good(), "tests/fixtures/templates/agent_text_fixtures.json is missing");
  const json doc = json::parse(in);
  REQUIRE(doc["cases"].size() >= 3);
  for (const json& c : doc["cases"]) {
    CAPTURE(c["name"].get<std::string>());
    auto r = make_template(c["template"].get<std::string>())->render(c["conversation"].dump(), c["options"].dump());
    CHECK(r.text() == c["text"].get<std::string>());
  }
}
