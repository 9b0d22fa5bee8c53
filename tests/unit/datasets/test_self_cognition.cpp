#include "datasets/core/error.hpp"
#include "datasets/core/loader.hpp"
#include "datasets/core/record_reader.hpp"
#include "datasets/core/search_path.hpp"
#include "datasets/core/self_cognition.hpp"
#include "temp_dir.hpp"

#include <doctest/doctest.h>

using namespace megaswift::datasets;
using nlohmann::json;

namespace {

json tagged(const char* tag) {
  return {{"query", "who are you, {{NAME}}?"}, {"response", "I am {{NAME}} by {{AUTHOR}}."}, {"tag", tag}};
}

bool contains(const std::string& s, const std::string& part) { return s.find(part) != std::string::npos; }

std::string all_text(const Row& row) {
  std::string s;
  for (const auto& m : row.messages) s += m.content + "\n";
  return s;
}

}  // namespace

TEST_CASE("one --model_name/--model_author value serves both languages") {
  const SelfCognitionNames names = self_cognition_names({"Bolt"}, {"Acme"});
  json zh = tagged("zh"), en = tagged("en");
  apply_self_cognition(zh, names);
  apply_self_cognition(en, names);
  CHECK(zh["response"] == "I am Bolt by Acme.");
  CHECK(en["response"] == "I am Bolt by Acme.");
  CHECK(en["query"] == "who are you, Bolt?");
}

TEST_CASE("two values: Chinese rows take the first, other rows the second") {
  const SelfCognitionNames names = self_cognition_names({"小黄", "Xiao Huang"}, {"魔搭", "ModelScope"});
  json zh = tagged("zh"), en = tagged("en");
  apply_self_cognition(zh, names);
  apply_self_cognition(en, names);
  CHECK(zh["response"] == "I am 小黄 by 魔搭.");
  CHECK(en["response"] == "I am Xiao Huang by ModelScope.");
  CHECK(zh["tag"] == "zh");
}

TEST_CASE("a missing value leaves its placeholder and more than two values is an error") {
  json row = tagged("en");
  apply_self_cognition(row, self_cognition_names({"Bolt"}, {}));
  CHECK(row["response"] == "I am Bolt by {{AUTHOR}}.");
  CHECK_THROWS_WITH_AS(self_cognition_names({"a", "b", "c"}, {}), doctest::Contains("--model_name takes one value"),
                       DatasetError);
}

TEST_CASE("bundled swift/self-cognition has ~100 English and ~100 Chinese rows with placeholders") {
  const auto dirs = default_search_dirs(std::filesystem::path(), "");
  const auto records = read_records(dirs.at(0) / "self_cognition.jsonl");
  std::size_t zh = 0, en = 0, with_name = 0;
  for (const auto& r : records) {
    REQUIRE(r.value.is_object());
    const std::string tag = r.value.at("tag").get<std::string>();
    CHECK((tag == "zh" || tag == "en"));
    (tag == "zh" ? zh : en)++;
    if (contains(r.value.at("response").get<std::string>(), "{{NAME}}")) ++with_name;
  }
  CHECK(zh >= 90);
  CHECK(en >= 90);
  CHECK(with_name >= (zh + en) / 2);
}

TEST_CASE("loading swift/self-cognition fills the names per language and warns when they are missing") {
  LoadOptions options;
  options.search_dirs = default_search_dirs(std::filesystem::path(), "");
  const LoadedDataset raw = load_dataset("swift/self-cognition", options);
  CHECK(raw.report.self_cognition);
  CHECK(raw.report.dropped_total() == 0);
  CHECK(raw.report.warnings.size() == 2);
  CHECK(contains(all_text(raw.rows.at(0)) + all_text(raw.rows.at(1)), "{{"));

  options.self_cognition = self_cognition_names({"小黄", "Xiao Huang"}, {"魔搭", "ModelScope"});
  const LoadedDataset named = load_dataset("modelscope/self-cognition", options);
  REQUIRE(named.rows.size() == raw.rows.size());
  CHECK(named.report.warnings.empty());
  std::size_t zh_name = 0, en_name = 0;
  for (const Row& row : named.rows) {
    const std::string text = all_text(row);
    CHECK_FALSE(contains(text, "{{NAME}}"));
    CHECK_FALSE(contains(text, "{{AUTHOR}}"));
    zh_name += contains(text, "小黄");
    en_name += contains(text, "Xiao Huang");
    CHECK_FALSE((contains(text, "小黄") && contains(text, "Xiao Huang")));
  }
  CHECK(zh_name >= 45);
  CHECK(en_name >= 45);
}

TEST_CASE("the qwen3 subset appends /no_think to queries and an empty think block to answers") {
  LoadOptions options;
  options.search_dirs = default_search_dirs(std::filesystem::path(), "");
  options.self_cognition = self_cognition_names({"Bolt"}, {"Acme"});
  const LoadedDataset loaded = load_dataset("swift/self-cognition:qwen3#20", options);
  const Row& row = loaded.rows.at(0);
  REQUIRE(row.messages.size() == 2);
  CHECK(row.messages[0].content.ends_with(" /no_think"));
  CHECK(row.messages[1].content.starts_with("<think>\n\n</think>\n\n"));
  const LoadedDataset empty_think = load_dataset("swift/self-cognition:empty_think", options);
  CHECK_FALSE(empty_think.rows.at(0).messages[0].content.ends_with(" /no_think"));
  CHECK(empty_think.rows.at(0).messages[1].content.starts_with("<think>\n\n</think>\n\n"));
}

TEST_CASE("names apply only to the self-cognition dataset, not to other files") {
  test::TempDir dir;
  const auto file = dir.write("mine.jsonl", tagged("en").dump() + "\n");
  LoadOptions options;
  options.self_cognition = self_cognition_names({"Bolt"}, {"Acme"});
  const LoadedDataset loaded = load_dataset(file.string(), options);
  CHECK(contains(all_text(loaded.rows.at(0)), "{{NAME}}"));
}
