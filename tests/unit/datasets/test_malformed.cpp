#include "datasets/core/error.hpp"
#include "datasets/core/loader.hpp"
#include "temp_dir.hpp"

#include <doctest/doctest.h>

using namespace megaswift::datasets;

namespace {

// 3 good rows and 10 malformed ones, each kind at a known line.
const char* kMessages =
    R"({"messages": [{"role": "user", "content": "q"}, {"role": "assistant", "content": "a"}]})" "\n"   // 1 ok
    R"({"messages": []})" "\n"                                                                             // 2 empty
    R"({"messages": "not a list"})" "\n"                                                                   // 3 wrong type
    R"({"messages": [{"role": "user", "content": 5}, {"role": "assistant", "content": "a"}]})" "\n"       // 4 wrong type
    R"({"messages": [{"role": "robot", "content": "x"}, {"role": "assistant", "content": "a"}]})" "\n"    // 5 unknown role
    R"({"messages": [{"role": "user"}, {"role": "assistant", "content": "a"}]})" "\n"                     // 6 missing
    R"({"messages": [{"role": "user", "content": "q"}]})" "\n"                                            // 7 no answer
    R"({"messages": [{"role": "user", "content": "q"}, {"role": "system", "content": "s"}, {"role": "assistant", "content": "a"}]})" "\n"  // 8
    R"({"messages": [{"role": "system", "content": "s"}]})" "\n"                                          // 9 empty
    R"({"messages": null})" "\n"                                                                           // 10 missing
    R"(["a list"])" "\n"                                                                                   // 11 not object
    R"({"messages": [{"role": "user", "content": "q"}, {"role": "assistant", "content": "a", "loss": "yes"}]})" "\n"  // 12
    R"({"messages": [{"from": "human", "value": "q"}, {"from": "gpt", "value": "a"}]})" "\n";            // 13 ok

}  // namespace

TEST_CASE("malformed rows are dropped and counted by reason, with the first location") {
  test::TempDir dir;
  const auto file = dir.write("bad.jsonl", kMessages);
  const LoadedDataset loaded = load_dataset(file.string(), LoadOptions{});
  const DatasetReport& r = loaded.report;
  CHECK(loaded.rows.size() == 2);
  CHECK(r.rows_read == 13);
  CHECK(r.rows_kept == 2);
  CHECK(r.dropped_total() == 11);
  CHECK(r.dropped(RowIssue::empty_conversation) == 2);
  CHECK(r.dropped(RowIssue::wrong_type) == 3);
  CHECK(r.dropped(RowIssue::unknown_role) == 1);
  CHECK(r.dropped(RowIssue::missing_field) == 2);
  CHECK(r.dropped(RowIssue::no_final_assistant_turn) == 1);
  CHECK(r.dropped(RowIssue::system_not_first) == 1);
  CHECK(r.dropped(RowIssue::not_an_object) == 1);
  CHECK(r.drops.at(RowIssue::unknown_role).first == "row 4 (line 5): messages[0].role is 'robot'");
  CHECK(r.drops.at(RowIssue::wrong_type).first.starts_with("row 2 (line 3)"));
  const std::string text = describe(r);
  CHECK(text.find("dropped 1 rows: unknown role") != std::string::npos);
  CHECK(text.find("2 of 13 rows usable") != std::string::npos);
}

TEST_CASE("pre-training keeps rows that do not end with an assistant turn") {
  test::TempDir dir;
  const auto file = dir.write("pt.jsonl", R"({"messages": [{"role": "user", "content": "q"}]})" "\n");
  LoadOptions options;
  CHECK(load_dataset(file.string(), options).report.dropped(RowIssue::no_final_assistant_turn) == 1);
  options.purpose = Purpose::pretrain;
  CHECK(load_dataset(file.string(), options).rows.size() == 1);
}

TEST_CASE("query/response and alpaca rows with missing or mistyped fields are counted") {
  test::TempDir dir;
  const auto qr = dir.write("qr.jsonl",
                            "{\"query\": \"q\", \"response\": \"r\"}\n"
                            "{\"query\": \"q\"}\n"
                            "{\"query\": \"q\", \"response\": 42}\n"
                            "{\"query\": [\"q\"], \"response\": \"r\"}\n"
                            "{\"query\": \"q\", \"response\": \"r\", \"history\": [[\"a\"]]}\n");
  const DatasetReport r = load_dataset(qr.string(), LoadOptions{}).report;
  CHECK(r.rows_kept == 1);
  CHECK(r.dropped(RowIssue::missing_field) == 1);
  CHECK(r.dropped(RowIssue::wrong_type) == 3);

  const auto alpaca = dir.write("alpaca.csv", "instruction,input,output\nAdd,1 2,3\n,,x\nSay hi,,\n");
  const DatasetReport a = load_dataset(alpaca.string(), LoadOptions{}).report;
  CHECK(a.rows_kept == 1);
  CHECK(a.dropped(RowIssue::missing_field) == 2);
}

TEST_CASE("--strict turns the first malformed row into an error naming the file and line") {
  test::TempDir dir;
  const auto file = dir.write("bad.jsonl", kMessages);
  LoadOptions options;
  options.strict = true;
  CHECK_THROWS_WITH_AS(load_dataset(file.string(), options), doctest::Contains("bad.jsonl row 1 (line 2): empty conversation"),
                       DatasetError);
}

TEST_CASE("a file with bad JSON fails the load naming the file and line") {
  test::TempDir dir;
  const auto file = dir.write("broken.jsonl", "{\"query\": \"q\", \"response\": \"r\"}\n{\"query\": \"q\" \"response\": 1}\n");
  CHECK_THROWS_WITH_AS(load_dataset(file.string(), LoadOptions{}), doctest::Contains("broken.jsonl line 2"), DatasetError);
}
