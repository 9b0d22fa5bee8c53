#include "datasets/core/error.hpp"
#include "datasets/core/loader.hpp"
#include "datasets/core/registry.hpp"
#include "datasets/core/search_path.hpp"
#include "datasets/core/spec.hpp"
#include "temp_dir.hpp"

#include "thrown_message.hpp"

#include <doctest/doctest.h>

using namespace megaswift::datasets;
namespace fs = std::filesystem;

namespace {

std::string error_of(auto&& fn) { return megaswift::testing::thrown_message<DatasetError>(fn); }

ResolvedDataset resolve(const std::string& spec, const std::vector<fs::path>& dirs) {
  return resolve_dataset(parse_dataset_spec(spec), dirs);
}

}  // namespace

TEST_CASE("dataset specs parse id, subsets and #N") {
  const DatasetSpec a = parse_dataset_spec("swift/self-cognition");
  CHECK(a.name == "swift/self-cognition");
  CHECK(a.subsets.empty());
  CHECK_FALSE(a.sample);

  const DatasetSpec b = parse_dataset_spec("org/name:sub1/sub2#500");
  CHECK(b.name == "org/name");
  CHECK(b.subsets == std::vector<std::string>{"sub1", "sub2"});
  CHECK(b.sample == 500u);
  CHECK(b.location == "org/name:sub1/sub2");

  const DatasetSpec c = parse_dataset_spec("./data/my#file.jsonl#20");
  CHECK(c.location == "./data/my#file.jsonl");
  CHECK(c.sample == 20u);

  CHECK(parse_dataset_spec("org/name:all").subsets == std::vector<std::string>{"all"});
  CHECK_THROWS_WITH_AS(parse_dataset_spec("org/name#0"), doctest::Contains("'#0'"), DatasetError);
  CHECK_THROWS_AS(parse_dataset_spec("org/name:"), DatasetError);
  CHECK_THROWS_AS(parse_dataset_spec("#5"), DatasetError);
}

TEST_CASE("the default search list is the bundled folder, then MEGASWIFT_DATASETS entries in order") {
  const auto dirs = default_search_dirs(fs::path("/nonexistent/bin/megatron"), "/a::/b");
  REQUIRE(dirs.size() == 3);
  CHECK(fs::exists(dirs[0] / "registry.json"));  // the source tree's datasets/data, found from the build tree
  CHECK(dirs[1] == fs::path("/a"));
  CHECK(dirs[2] == fs::path("/b"));
}

TEST_CASE("an installed layout finds <exe>/../share/megaswift/datasets first") {
  test::TempDir dir;
  dir.write("share/megaswift/datasets/registry.json", "{}");
  fs::create_directories(dir.path() / "bin");
  const auto dirs = default_search_dirs(dir.path() / "bin" / "megatron", "");
  REQUIRE(dirs.size() == 1);
  CHECK(fs::equivalent(dirs[0], dir.path() / "share/megaswift/datasets"));
}

TEST_CASE("ids resolve to <dir>/<org>/<name>.<ext>, then <dir>/<org>/<name>/ folders") {
  test::TempDir first, second;
  second.write("AI-ModelScope/alpaca-gpt4-data-en.jsonl", "{\"instruction\": \"i\", \"input\": \"\", \"output\": \"o\"}\n");
  second.write("org/folder/train.csv", "query,response\nq,r\n");
  second.write("org/folder/extra.jsonl", "{\"query\": \"q\", \"response\": \"r\"}\n");
  second.write("org/folder/zh/part1.jsonl", "{\"query\": \"q\", \"response\": \"r\"}\n");
  second.write("org/folder/zh/part2.jsonl", "{\"query\": \"q\", \"response\": \"r\"}\n");
  const std::vector<fs::path> dirs = default_search_dirs(fs::path(), first.path().string() + ":" + second.path().string());

  const auto alpaca = resolve("AI-ModelScope/alpaca-gpt4-data-en#10", dirs);
  REQUIRE(alpaca.sources.size() == 1);
  CHECK(alpaca.sources[0].file == second.path() / "AI-ModelScope/alpaca-gpt4-data-en.jsonl");
  CHECK(alpaca.found_in == second.path());

  CHECK(resolve("org/folder", dirs).sources.at(0).file.filename() == "train.csv");
  CHECK(resolve("org/folder:extra", dirs).sources.at(0).file.filename() == "extra.jsonl");
  CHECK(resolve("org/folder:zh", dirs).sources.size() == 2);
  CHECK(resolve("org/folder:all", dirs).sources.size() == 2);  // train.csv and extra.jsonl
  CHECK(error_of([&] { resolve("org/folder:fr", dirs); }).find("available: extra, train, zh") != std::string::npos);

  LoadOptions options;
  options.search_dirs = dirs;
  CHECK(load_dataset("AI-ModelScope/alpaca-gpt4-data-en", options).rows.size() == 1);
}

TEST_CASE("a missing id is an error listing every place looked at") {
  test::TempDir first, second;
  second.write("registry.json", "{\"other/id\": {\"file\": \"x.jsonl\"}}");
  second.write("x.jsonl", "{\"text\": \"t\"}\n");
  const std::vector<fs::path> dirs = {first.path(), second.path()};
  const std::string e = error_of([&] { resolve("org/missing#5", dirs); });
  CHECK(e.find("dataset 'org/missing#5' not found") != std::string::npos);
  CHECK(e.find((first.path() / "org/missing").string() + ".{jsonl,json,csv,txt}") != std::string::npos);
  CHECK(e.find((first.path() / "org/missing").string() + "/ (folder)") != std::string::npos);
  CHECK(e.find((second.path() / "registry.json").string() + " (no entry 'org/missing')") != std::string::npos);
  CHECK(e.find((second.path() / "org/missing").string() + ".{jsonl,json,csv,txt}") != std::string::npos);
  CHECK(e.find("MEGASWIFT_DATASETS") != std::string::npos);

  CHECK(error_of([] { resolve("org/missing", {}); }).find("No search directories") != std::string::npos);
}

TEST_CASE("local paths: files, folders, missing files and subsets on files") {
  test::TempDir dir;
  const auto file = dir.write("data/train.jsonl", "{\"query\": \"q\", \"response\": \"r\"}\n");
  CHECK(resolve(file.string() + "#3", {}).local);
  CHECK(resolve((dir.path() / "data").string(), {}).sources.at(0).file == file);
  CHECK(error_of([&] { resolve((dir.path() / "nope.jsonl").string(), {}); }).find("dataset file not found") != std::string::npos);
  CHECK(error_of([&] { resolve(file.string() + ":sub", {}); }).find("not to the file") != std::string::npos);
}

TEST_CASE("registry.json entries: files, aliases, declared subsets and unknown subsets") {
  test::TempDir dir;
  dir.write("data.jsonl", "{\"query\": \"q\", \"response\": \"r\"}\n");
  dir.write("zh.jsonl", "{\"query\": \"q\", \"response\": \"r\"}\n");
  dir.write("registry.json", R"({
    "me/set": {"file": "data.jsonl", "subsets": {"zh": {"file": "zh.jsonl"}, "think": {"response_prefix": "<t>"}}},
    "mirror/set": {"alias_of": "me/set"},
    "me/broken": {"file": "absent.jsonl"}
  })");
  const std::vector<fs::path> dirs = {dir.path()};
  CHECK(resolve("me/set", dirs).sources.at(0).file == dir.path() / "data.jsonl");
  CHECK(resolve("mirror/set:zh", dirs).sources.at(0).file == dir.path() / "zh.jsonl");
  const auto think = resolve("me/set:think", dirs);
  CHECK(think.sources.at(0).file == dir.path() / "data.jsonl");
  CHECK(think.sources.at(0).transform.response_prefix == "<t>");
  CHECK(resolve("me/set:all", dirs).sources.size() == 3);
  CHECK(error_of([&] { resolve("me/set:fr", dirs); }).find("available: default, think, zh") != std::string::npos);
  CHECK(error_of([&] { resolve("me/broken", dirs); }).find("absent.jsonl, which does not exist") != std::string::npos);

  LoadOptions options;
  options.search_dirs = dirs;
  const LoadedDataset loaded = load_dataset("me/set:think", options);
  CHECK(to_json(loaded.rows.at(0))["messages"][1]["content"] == "<t>r");
}

TEST_CASE("ids with '..' components are refused rather than escaping the search folders") {
  CHECK(error_of([] { resolve("org/../../etc", {}); }).find("nor a valid id") != std::string::npos);
}
