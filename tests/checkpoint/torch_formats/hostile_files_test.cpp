// Hostile files in a torch checkpoint (issue 12): a FIFO or a device where a .pt / .distcp file should be. Mapping
// used to open the FIFO and wait forever for a writer; now each is refused by name before a byte is read.
#include "hostile_input.hpp"
#include "io.hpp"
#include "scratch_dir.hpp"

#include <megaswift/sdk/status.hpp>

#include <doctest/doctest.h>

#include <sys/stat.h>

namespace {

const bool kWatchdog = megaswift::test::arm_watchdog(60);

std::string map_error(const std::string& path) {
  try {
    torchfmt::MappedFile m(path);
  } catch (const megaswift::sdk::Error& e) {
    return e.what();
  }
  return "(no error)";
}

}  // namespace

TEST_CASE("a FIFO as a torch checkpoint file is refused by name instead of blocking") {
  const std::string fifo = (megaswift::testing::scratch_dir("msw_hostile_torch") / "__0_0.distcp").string();
  REQUIRE(::mkfifo(fifo.c_str(), 0600) == 0);
  std::string message;
  const auto bound = megaswift::test::measure([&] { message = map_error(fifo); });
  CHECK(message == "checkpoint file " + fifo + " is a FIFO (named pipe), not a regular file: only regular files are "
                   "read (a pipe or a device could block or never end); copy the data into a file and pass that");
  CHECK(bound.seconds < 5);
}

TEST_CASE("/dev/zero as a torch checkpoint file is refused as a character device") {
  CHECK(map_error("/dev/zero").find("checkpoint file /dev/zero is a character device") == 0);
}
