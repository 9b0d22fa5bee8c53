// Hostile dataset inputs (issue 12): special files, '#N' suffixes that are not row counts or ask for absurd counts.
// Each must fail with a message naming the path or the suffix, quickly and in bounded memory; without the fixes a
// FIFO blocks forever, /dev/zero grows memory until the process dies, and '#1000000000000' allocates until bad_alloc.
#include "datasets/core/error.hpp"
#include "datasets/core/loader.hpp"
#include "datasets/core/record_reader.hpp"
#include "datasets/core/sampling.hpp"
#include "datasets/core/spec.hpp"
#include "hostile_input.hpp"
#include "temp_dir.hpp"

#include "thrown_message.hpp"

#include <doctest/doctest.h>

#include <sys/stat.h>

using namespace megaswift::datasets;
namespace fs = std::filesystem;
using megaswift::test::measure;

namespace {

const bool kWatchdog = megaswift::test::arm_watchdog(60);

std::string error_of(auto&& fn) { return megaswift::testing::thrown_message<DatasetError>(fn); }

LoadOptions no_search() {
  LoadOptions o;
  o.search_dirs = {};
  return o;
}

// A temp folder with data.jsonl of three rows.
struct ThreeRows {
  test::TempDir dir;
  fs::path file = dir.write("data.jsonl", "{\"query\": \"a\", \"response\": \"b\"}\n"
                                          "{\"query\": \"c\", \"response\": \"d\"}\n"
                                          "{\"query\": \"e\", \"response\": \"f\"}\n");
};

}  // namespace

TEST_CASE("a FIFO as a dataset file is refused by name instead of blocking forever") {
  test::TempDir dir;
  const fs::path fifo = dir.path() / "data.jsonl";
  REQUIRE(::mkfifo(fifo.c_str(), 0600) == 0);
  std::string message;
  const auto bound = measure([&] { message = error_of([&] { load_dataset(fifo.string(), no_search()); }); });
  CHECK(message.find(fifo.string()) != std::string::npos);
  CHECK(message.find("FIFO (named pipe), not a regular file") != std::string::npos);
  CHECK(bound.seconds < 5);
}

TEST_CASE("/dev/zero and /dev/urandom as a dataset are refused before a byte is read") {
  for (const char* device : {"/dev/zero", "/dev/urandom"}) {
    CAPTURE(device);
    test::TempDir dir;
    // Named like a data file (the suffix picks the reader), pointing at the endless device.
    const fs::path link = dir.path() / "data.jsonl";
    fs::create_symlink(device, link);
    std::string message;
    const auto bound = measure([&] { message = error_of([&] { read_records(link); }); });
    CHECK(message.find(link.string()) != std::string::npos);
    CHECK(message.find("is a character device, not a regular file") != std::string::npos);
    CHECK(bound.seconds < 5);
    CHECK(bound.peak_growth_mib < 64);
  }
}

TEST_CASE("a folder named like a data file is refused as a directory") {
  test::TempDir dir;
  fs::create_directories(dir.path() / "rows.csv");
  const std::string message = error_of([&] { read_records(dir.path() / "rows.csv"); });
  CHECK(message.find("rows.csv is a directory, not a regular file") != std::string::npos);
}

TEST_CASE("a missing dataset file says it does not exist, not that the dataset has no rows") {
  test::TempDir dir;
  const std::string message = error_of([&] { read_records(dir.path() / "gone.jsonl"); });
  CHECK(message.find("gone.jsonl does not exist") != std::string::npos);
}

TEST_CASE("'#-1', '#abc' and '#' after an existing file say what is wrong with the suffix, not 'not found'") {
  ThreeRows data;
  const std::string path = data.file.string();
  for (const std::string suffix : {"#-1", "#abc", "#1.5", "#+3"}) {
    CAPTURE(suffix);
    const std::string message = error_of([&] { load_dataset(path + suffix, no_search()); });
    CHECK(message.find("'" + suffix + "' is not a row count") != std::string::npos);
    CHECK(message.find("write '#N' with N a whole number of rows") != std::string::npos);
    CHECK(message.find("not found") == std::string::npos);
  }
  const std::string bare = error_of([&] { load_dataset(path + "#", no_search()); });
  CHECK(bare.find("'#' is not followed by a row count") != std::string::npos);
}

TEST_CASE("'#N' beyond the stated copy limit fails at once with the largest N allowed") {
  ThreeRows data;
  const std::vector<std::string> none;
  std::string message;
  const auto bound = measure([&] {
    message = error_of([&] { load_train_val({data.file.string() + "#1000000000000"}, none, 0.0, no_search()); });
  });
  CHECK(message.find("'#1000000000000' asks for 1000000000000 rows from 3 usable rows") != std::string::npos);
  CHECK(message.find("use at most #3000") != std::string::npos);
  CHECK(bound.seconds < 5);
  CHECK(bound.peak_growth_mib < 64);
}

TEST_CASE("'#N' at exactly the copy limit is accepted, one more is refused, with and without a split") {
  const std::size_t limit = 3 * kMaxSampleCopies;
  Rng rng(1);
  CHECK(sample_indices(3, limit, rng, true, "d").size() == limit);
  CHECK(error_of([&] { sample_indices(3, limit + 1, rng, true, "d"); }).find("more than 1000 copies") !=
        std::string::npos);
  CHECK(error_of([&] { split_indices(3, limit + 1, 0.5, rng, true, "d"); }).find("use at most #3000") !=
        std::string::npos);
}

TEST_CASE("a '#N' too large for 64 bits is refused when parsed") {
  CHECK(error_of([] { parse_dataset_spec("d.jsonl#99999999999999999999999"); }).find("too large") !=
        std::string::npos);
}
