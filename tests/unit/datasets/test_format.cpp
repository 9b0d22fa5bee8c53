#include "datasets/core/columns.hpp"
#include "datasets/core/error.hpp"
#include "datasets/core/format_detect.hpp"
#include "datasets/core/loader.hpp"
#include "datasets/core/normalize.hpp"
#include "temp_dir.hpp"

#include <doctest/doctest.h>

using namespace megaswift::datasets;
using nlohmann::json;

namespace {

std::vector<std::string> keys_of(const json& row) {
  std::vector<std::string> keys;
  for (const auto& [k, _] : row.items()) keys.push_back(k);
  return keys;
}

// Detects the format from the row's own keys and normalizes it; fails the test on a dropped row.
std::pair<RowFormat, json> convert(const json& row, Purpose purpose = Purpose::sft) {
  const FormatPlan plan = detect_format(keys_of(row), "test");
  auto result = normalize_record(row, plan, NormalizeOptions{purpose, 42}, 0);
  if (auto* p = std::get_if<RowProblem>(&result)) FAIL("row dropped: " << to_string(p->issue) << ": " << p->detail);
  return {plan.format, to_json(std::get<Row>(result))["messages"]};
}

json msg(const char* role, const char* content) { return {{"role", role}, {"content", content}}; }

}  // namespace

TEST_CASE("messages rows keep roles, contents, a top-level system and per-message loss") {
  const json row = {{"system", "be brief"},
                    {"messages", {msg("user", "hi"), {{"role", "assistant"}, {"content", "hello"}, {"loss", false}},
                                  msg("user", "again"), {{"role", "assistant"}, {"content", "hey"}, {"loss_scale", 2.5}}}}};
  const auto [format, messages] = convert(row);
  CHECK(format == RowFormat::messages);
  REQUIRE(messages.size() == 5);
  CHECK(messages[0] == msg("system", "be brief"));
  CHECK(messages[1] == msg("user", "hi"));
  CHECK(messages[2]["loss"] == 0.0);
  CHECK(messages[4]["loss"] == 2.5);
  CHECK_FALSE(messages[3].contains("loss"));
}

TEST_CASE("sharegpt from/value conversations map human/gpt/system roles") {
  const json row = {{"conversations",
                     {{{"from", "system"}, {"value", "sys"}}, {{"from", "human"}, {"value", "q"}}, {{"from", "gpt"}, {"value", "a"}}}}};
  const auto [format, messages] = convert(row);
  CHECK(format == RowFormat::sharegpt);
  CHECK(messages == json{msg("system", "sys"), msg("user", "q"), msg("assistant", "a")});
}

TEST_CASE("sharegpt human/assistant turn pairs with a top-level system") {
  const json row = {{"system", "s"},
                    {"conversation", {{{"human", "q1"}, {"assistant", "a1"}}, {{"human", "q2"}, {"assistant", "a2"}}}}};
  const auto [format, messages] = convert(row);
  CHECK(format == RowFormat::sharegpt);
  CHECK(messages == json{msg("system", "s"), msg("user", "q1"), msg("assistant", "a1"), msg("user", "q2"), msg("assistant", "a2")});
}

TEST_CASE("alpaca joins instruction and input with a newline, uses output, history and system") {
  const json row = {{"instruction", "Translate"}, {"input", "chat"}, {"output", "cat"}, {"system", "s"},
                    {"history", json::array({json::array({"q0", "a0"})})}};
  const auto [format, messages] = convert(row);
  CHECK(format == RowFormat::alpaca);
  CHECK(messages == json{msg("system", "s"), msg("user", "q0"), msg("assistant", "a0"), msg("user", "Translate\nchat"),
                         msg("assistant", "cat")});
}

TEST_CASE("alpaca with an empty input uses the instruction alone") {
  const auto [format, messages] = convert({{"instruction", "Say hi"}, {"input", ""}, {"output", "hi"}});
  CHECK(format == RowFormat::alpaca);
  CHECK(messages[0] == msg("user", "Say hi"));
}

TEST_CASE("query/response rows with ms-swift's aliases") {
  CHECK(convert({{"query", "q"}, {"response", "r"}}).second == json{msg("user", "q"), msg("assistant", "r")});
  CHECK(convert({{"prompt", "q"}, {"completion", "r"}}).second == json{msg("user", "q"), msg("assistant", "r")});
  CHECK(convert({{"question", "q"}, {"answer", "r"}, {"system_prompt", "s"}}).second ==
        json{msg("system", "s"), msg("user", "q"), msg("assistant", "r")});
  CHECK(convert({{"problem", "q"}, {"solution", "r"}}).first == RowFormat::query_response);
  CHECK(convert({{"Instruction", "q"}, {"Output", "r"}}).second == json{msg("user", "q"), msg("assistant", "r")});
}

TEST_CASE("the canonical column wins over an alias and two aliases alone are ambiguous") {
  CHECK(convert({{"query", "q"}, {"prompt", "p"}, {"response", "r"}}).second[0] == msg("user", "q"));
  CHECK_THROWS_WITH_AS(detect_format({"query", "answer", "output"}, "amb.jsonl"),
                       doctest::Contains("cannot tell which column is the response"), DatasetError);
}

TEST_CASE("text rows become one assistant message (pre-training form)") {
  const auto [format, messages] = convert({{"text", "Plain corpus text."}}, Purpose::pretrain);
  CHECK(format == RowFormat::text);
  // json::array, not json{...}: a braced list of one json is a copy for clang and an array for gcc.
  CHECK(messages == json::array({msg("assistant", "Plain corpus text.")}));
}

TEST_CASE("unknown keys are an error naming the keys and --columns") {
  CHECK_THROWS_WITH_AS(detect_format({"foo", "bar"}, "odd.jsonl"),
                       doctest::Contains("odd.jsonl: cannot detect the row format from its keys ['foo', 'bar']"),
                       DatasetError);
}

TEST_CASE("a list-valued response picks one element reproducibly") {
  const json row = {{"query", "q"}, {"response", {"r1", "r2", "r3"}}};
  const auto first = convert(row).second[1]["content"];
  CHECK(first == convert(row).second[1]["content"]);
  CHECK((first == "r1" || first == "r2" || first == "r3"));
}

TEST_CASE("--columns parses a JSON object and rejects other values") {
  const ColumnMap map = parse_columns(R"({"q": "query", "a": "response"})");
  REQUIRE(map.size() == 2);
  CHECK(parse_columns("").empty());
  CHECK_THROWS_WITH_AS(parse_columns("[1]"), doctest::Contains("--columns is a JSON array"), DatasetError);
  CHECK_THROWS_WITH_AS(parse_columns("{\"a\": 1}"), doctest::Contains("expected a non-empty string"), DatasetError);
  CHECK_THROWS_AS(parse_columns("{bad"), DatasetError);
}

TEST_CASE("--columns renames case-insensitively and all at once, so swaps work") {
  json row = {{"Q", "x"}, {"a", "y"}};
  CHECK_FALSE(rename_columns(row, parse_columns(R"({"q": "a", "a": "q"})")));
  CHECK(row == json{{"a", "x"}, {"q", "y"}});
  json clash = {{"q", "x"}, {"query", "y"}};
  const auto problem = rename_columns(clash, parse_columns(R"({"q": "query"})"));
  REQUIRE(problem);
  CHECK(problem->issue == RowIssue::column_conflict);
}

TEST_CASE("--columns renames keys before format detection when loading a file") {
  test::TempDir dir;
  const auto file = dir.write("c.jsonl", "{\"ask\": \"2+2?\", \"reply\": \"4\"}\n");
  LoadOptions options;
  CHECK_THROWS_AS(load_dataset(file.string(), options), DatasetError);
  options.columns = parse_columns(R"({"ask": "query", "reply": "response"})");
  const LoadedDataset loaded = load_dataset(file.string(), options);
  REQUIRE(loaded.rows.size() == 1);
  CHECK(loaded.report.sources.at(0).format == RowFormat::query_response);
  CHECK(to_json(loaded.rows[0])["messages"] == json{msg("user", "2+2?"), msg("assistant", "4")});
  CHECK(loaded.rows[0].source == file.string());
}

TEST_CASE("a csv messages column holding JSON text is parsed") {
  test::TempDir dir;
  const auto file = dir.write("m.csv",
                              "messages\n\"[{\"\"role\"\": \"\"user\"\", \"\"content\"\": \"\"q\"\"}, "
                              "{\"\"role\"\": \"\"assistant\"\", \"\"content\"\": \"\"a, b\"\"}]\"\n");
  const LoadedDataset loaded = load_dataset(file.string(), LoadOptions{});
  REQUIRE(loaded.rows.size() == 1);
  CHECK(to_json(loaded.rows[0])["messages"] == json{msg("user", "q"), msg("assistant", "a, b")});
}

TEST_CASE("agent rows get ms-swift's role names, the ones the templates take: tool_call and tool_response") {
  const json messages_row = {{"messages", {msg("user", "weather?"), msg("tool_call", "{\"name\": \"w\"}"),
                                           msg("tool", "sunny"), msg("assistant", "Sunny.")}}};
  const auto [format, messages] = convert(messages_row);
  CHECK(format == RowFormat::messages);
  REQUIRE(messages.size() == 4);
  CHECK(messages[1] == msg("tool_call", "{\"name\": \"w\"}"));
  CHECK(messages[2] == msg("tool_response", "sunny"));

  const json sharegpt_row = {{"conversations",
                              {{{"from", "human"}, {"value", "weather?"}},
                               {{"from", "function_call"}, {"value", "{\"name\": \"w\"}"}},
                               {{"from", "observation"}, {"value", "sunny"}},
                               {{"from", "gpt"}, {"value", "Sunny."}}}}};
  const auto [sharegpt_format, sharegpt_messages] = convert(sharegpt_row);
  CHECK(sharegpt_format == RowFormat::sharegpt);
  CHECK(sharegpt_messages == messages);
  for (const char* alias : {"function_response", "observations", "Tool", "tool_response"}) {
    CAPTURE(alias);
    CHECK(canonical_role(alias) == std::optional<std::string>("tool_response"));
  }
}
