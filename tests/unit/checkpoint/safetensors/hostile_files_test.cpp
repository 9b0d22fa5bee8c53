// Hostile files in a safetensors checkpoint directory (issue 12): a FIFO in place of a shard or of the index. Opening
// either used to wait forever for a writer; now each is refused by name before a byte is read.
#include "hostile_input.hpp"
#include "reader.hpp"
#include "st_test_util.hpp"

#include <sys/stat.h>

using namespace st_test;

namespace {

const bool kWatchdog = megaswift::test::arm_watchdog(60);

}  // namespace

TEST_CASE("a FIFO as model.safetensors of a checkpoint directory is refused by name instead of blocking") {
  const fs::path dir = scratch("fifo-shard");
  REQUIRE(::mkfifo((dir / "model.safetensors").c_str(), 0600) == 0);
  const auto bound = megaswift::test::measure([&] {
    expect_error([&] { st::DirectoryReader r(dir.string()); }, MSW_STATUS_INVALID_ARGUMENT,
                 {(dir / "model.safetensors").string(), "is a FIFO (named pipe), not a regular file"});
  });
  CHECK(bound.seconds < 5);
}

TEST_CASE("a FIFO as model.safetensors.index.json is refused by name instead of blocking") {
  const fs::path dir = scratch("fifo-index");
  REQUIRE(::mkfifo((dir / "model.safetensors.index.json").c_str(), 0600) == 0);
  expect_error([&] { st::DirectoryReader r(dir.string()); }, MSW_STATUS_INVALID_ARGUMENT,
               {"safetensors index", "model.safetensors.index.json is a FIFO (named pipe), not a regular file"});
}
