#include "datasets/core/loader.hpp"
#include "datasets/core/search_path.hpp"

#include <doctest/doctest.h>

#include <set>

using namespace megaswift::datasets;

namespace {

LoadedDataset load(const std::string& spec, Purpose purpose = Purpose::sft) {
  LoadOptions options;
  options.search_dirs = default_search_dirs(std::filesystem::path(), "");
  options.purpose = purpose;
  return load_dataset(spec, options);
}

}  // namespace

TEST_CASE("bundled alpaca-mini datasets load completely as alpaca rows") {
  for (const char* id : {"megaswift/alpaca-mini-en", "megaswift/alpaca-mini-zh"}) {
    CAPTURE(id);
    const LoadedDataset d = load(id);
    CHECK(d.report.dropped_total() == 0);
    CHECK(d.rows.size() >= 200);
    REQUIRE(d.report.sources.size() == 1);
    CHECK(d.report.sources[0].format == RowFormat::alpaca);
    std::set<std::string> distinct;
    for (const Row& r : d.rows) distinct.insert(r.messages.at(0).content);
    CHECK(distinct.size() == d.rows.size());  // no duplicated prompts
  }
}

TEST_CASE("bundled pt-corpus loads as text rows for pre-training") {
  const LoadedDataset d = load("megaswift/pt-corpus", Purpose::pretrain);
  CHECK(d.report.dropped_total() == 0);
  CHECK(d.rows.size() >= 200);
  CHECK(d.report.sources.at(0).format == RowFormat::text);
  CHECK(d.rows[0].messages.size() == 1);
  CHECK(d.rows[0].messages[0].role == "assistant");
}
