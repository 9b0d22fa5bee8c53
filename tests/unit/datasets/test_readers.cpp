#include "datasets/core/error.hpp"
#include "datasets/core/record_reader.hpp"
#include "temp_dir.hpp"

#include "thrown_message.hpp"

#include <doctest/doctest.h>

using namespace megaswift::datasets;
using nlohmann::json;

namespace {

std::string error_of(auto&& fn) { return megaswift::testing::thrown_message<DatasetError>(fn); }

}  // namespace

TEST_CASE("jsonl rows are read one per line, blank lines skipped, line numbers kept") {
  const auto rows = parse_json_records("{\"a\": 1}\n\n{\"a\": 2}\r\n", "x.jsonl");
  REQUIRE(rows.size() == 2);
  CHECK(rows[0].value["a"] == 1);
  CHECK(rows[1].value["a"] == 2);
  CHECK(rows[1].index == 1);
  CHECK(rows[1].line == 3);
}

TEST_CASE("a JSON list of objects is read as rows") {
  const auto rows = parse_json_records("[\n {\"q\": \"x\"},\n {\"q\": \"y\"}\n]\n", "x.json");
  REQUIRE(rows.size() == 2);
  CHECK(rows[1].value["q"] == "y");
}

TEST_CASE("a columnar JSON object becomes one row per list element") {
  const auto rows = parse_json_records("{\n \"query\": [\"a\", \"b\"],\n \"response\": [\"c\", \"d\"]\n}", "x.json");
  REQUIRE(rows.size() == 2);
  CHECK(rows[1].value == json{{"query", "b"}, {"response", "d"}});
}

TEST_CASE("a single JSON object that is not columnar is an error suggesting JSON lines") {
  const std::string e = error_of([] { parse_json_records("{\n \"query\": \"a\",\n \"response\": \"b\"\n}", "one.json"); });
  CHECK(e.find("one.json") != std::string::npos);
  CHECK(e.find("JSON lines") != std::string::npos);
}

TEST_CASE("bad JSON in a jsonl file names the file and the line") {
  const std::string text = "{\"a\": 1}\n{\"a\": 2}\n{\"a\": 3,,}\n{\"a\": 4}\n";
  const std::string e = error_of([&] { parse_json_records(text, "data/train.jsonl"); });
  CHECK(e.find("data/train.jsonl line 3") != std::string::npos);
}

TEST_CASE("bad JSON in a pretty-printed JSON list names the line") {
  const std::string text = "[\n  {\"a\": 1},\n  {\"a\": 2\n  {\"a\": 3}\n]\n";
  const std::string e = error_of([&] { parse_json_records(text, "list.json"); });
  CHECK(e.find("list.json line 4") != std::string::npos);
}

TEST_CASE("a jsonl row that is not an object is flagged, not fatal") {
  const auto rows = parse_json_records("{\"a\": 1}\n[1, 2]\n", "x.jsonl");
  REQUIRE(rows.size() == 2);
  CHECK_FALSE(rows[0].problem);
  REQUIRE(rows[1].problem);
  CHECK(rows[1].problem->issue == RowIssue::not_an_object);
}

TEST_CASE("csv handles quoted commas, doubled quotes, newlines inside quotes and CRLF") {
  const std::string text =
      "\xEF\xBB\xBFquery,response\r\n"
      "\"a, b\",\"he said \"\"hi\"\"\"\r\n"
      "\"line one\nline two\",plain\r\n"
      "\r\n"
      "last,\"x\"";
  const auto rows = parse_csv_records(text, "t.csv");
  REQUIRE(rows.size() == 3);
  CHECK(rows[0].value == json{{"query", "a, b"}, {"response", "he said \"hi\""}});
  CHECK(rows[1].value == json{{"query", "line one\nline two"}, {"response", "plain"}});
  CHECK(rows[1].line == 3);
  CHECK(rows[2].value == json{{"query", "last"}, {"response", "x"}});
  CHECK(rows[2].line == 6);
}

TEST_CASE("csv empty cells become null and a short record is flagged") {
  const auto rows = parse_csv_records("instruction,input,output\nadd,,3\nonly,two\n", "t.csv");
  REQUIRE(rows.size() == 2);
  CHECK(rows[0].value["input"].is_null());
  CHECK(rows[0].value["output"] == "3");
  REQUIRE(rows[1].problem);
  CHECK(rows[1].problem->issue == RowIssue::field_count_mismatch);
}

TEST_CASE("csv errors name the line: unclosed quote, text after a closing quote, duplicate header") {
  CHECK(error_of([] { parse_csv_records("a,b\n1,2\n\"open,3\n", "u.csv"); }).find("u.csv line 3") != std::string::npos);
  CHECK(error_of([] { parse_csv_records("a,b\n\"x\"y,2\n", "q.csv"); }).find("q.csv line 2") != std::string::npos);
  CHECK(error_of([] { parse_csv_records("a,a\n1,2\n", "d.csv"); }).find("'a' appears twice") != std::string::npos);
}

TEST_CASE("csv with invalid UTF-8 is an error naming the line") {
  const std::string e = error_of([] { parse_csv_records("a\nok\nbad \xC3\x28\n", "bad.csv"); });
  CHECK(e.find("bad.csv line 3") != std::string::npos);
  CHECK(e.find("UTF-8") != std::string::npos);
}

TEST_CASE("txt files give one text row per non-blank line") {
  const auto rows = parse_text_records("first line\r\n\n  \nsecond line", "c.txt");
  REQUIRE(rows.size() == 2);
  CHECK(rows[0].value == json{{"text", "first line"}});
  CHECK(rows[1].line == 4);
}

TEST_CASE("read_records picks the parser by suffix and rejects unknown suffixes") {
  test::TempDir dir;
  const auto csv = dir.write("d.CSV", "query,response\nq,r\n");
  CHECK(read_records(csv).size() == 1);
  const auto jsonl_as_json = dir.write("d.json", "{\"query\": \"q\"}\n{\"query\": \"r\"}\n");
  CHECK(read_records(jsonl_as_json).size() == 2);
  const auto parquet = dir.write("d.parquet", "PAR1");
  CHECK(error_of([&] { read_records(parquet); }).find("unsupported dataset file type '.parquet'") != std::string::npos);
}
