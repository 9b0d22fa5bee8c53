// Hostile inputs at the host's file and memory boundaries (issue 12): read_text_file (config.json, args.json, the
// checkpoint tracker) refuses FIFOs, devices and oversized files by name; a failed allocation is reported as "out of
// memory while <step>", never as a bare "std::bad_alloc" or "vector::reserve".
#include "host/core/out_of_memory.hpp"
#include "host/core/status.hpp"
#include "host/core/text_io.hpp"
#include "host_failure.hpp"
#include "hostile_input.hpp"
#include "scratch_dir.hpp"

#include <doctest/doctest.h>

#include <sys/stat.h>

#include <fstream>
#include <vector>

using namespace megaswift;
namespace fs = std::filesystem;
using megaswift::test::measure;

namespace {

const bool kWatchdog = test::arm_watchdog(60);

using test::Failure;
using test::failure_of;

fs::path scratch(const char* name) { return testing::scratch_dir(std::string("msw_hostile_core_") + name); }

}  // namespace

TEST_CASE("a FIFO named config.json is refused by name instead of blocking the read") {
  const fs::path dir = scratch("fifo");
  const fs::path fifo = dir / "config.json";
  REQUIRE(::mkfifo(fifo.c_str(), 0600) == 0);
  Failure f;
  const auto bound = measure([&] { f = failure_of([&] { host::read_text_file(fifo, "model config"); }); });
  CHECK(f.code == MSW_STATUS_INVALID_ARGUMENT);
  CHECK(f.message == "model config " + fifo.string() + " is a FIFO (named pipe), not a regular file: only regular "
                     "files are read (a pipe or a device could block or never end); copy the data into a file and "
                     "pass that");
  CHECK(bound.seconds < 5);
}

TEST_CASE("/dev/zero as a text file is refused as a character device, in bounded memory") {
  Failure f;
  const auto bound = measure([&] { f = failure_of([] { host::read_text_file("/dev/zero", "model config"); }); });
  CHECK(f.message.find("model config /dev/zero is a character device, not a regular file") != std::string::npos);
  CHECK(bound.peak_growth_mib < 64);
}

TEST_CASE("a text file over the stated size is refused before it is read") {
  const fs::path dir = scratch("big");
  const fs::path file = dir / "args.json";
  std::ofstream(file) << std::string(2048, ' ');
  const Failure f = failure_of([&] { host::read_text_file(file, "checkpoint file", 1024); });
  CHECK(f.code == MSW_STATUS_INVALID_ARGUMENT);
  CHECK(f.message.find("has 2048 bytes, more than the 1024 such a file may have") != std::string::npos);
  CHECK(host::read_text_file(file, "checkpoint file", 2048).size() == 2048);
}

TEST_CASE("a missing text file is NOT_FOUND naming what it is") {
  const Failure f = failure_of([] { host::read_text_file("/nonexistent/config.json", "model config"); });
  CHECK(f.code == MSW_STATUS_NOT_FOUND);
  CHECK(f.message == "model config /nonexistent/config.json does not exist");
}

TEST_CASE("vector::reserve past max_size becomes 'out of memory while <step>'") {
  const Failure f = failure_of([] {
    host::naming_out_of_memory("loading the datasets", [] {
      std::vector<double> v;
      v.reserve(v.max_size() + 1);  // std::length_error("vector::reserve"), what a huge '#N' used to reach
    });
  });
  CHECK(f.code == MSW_STATUS_OUT_OF_MEMORY);
  CHECK(f.message.rfind("out of memory while loading the datasets (a size too large: vector::reserve)", 0) == 0);
}

TEST_CASE("an allocation the system cannot satisfy becomes 'out of memory while <step>'") {
  const Failure f = failure_of([] {
    host::naming_out_of_memory("building the model of /m", [] {
      // 2^62 bytes (below max_size, so the allocator is asked) exceed any address space: std::bad_alloc at once.
      volatile std::size_t bytes = std::size_t{1} << 62;
      std::vector<char> v;
      v.reserve(bytes);
      return v.capacity();
    });
  });
  CHECK(f.code == MSW_STATUS_OUT_OF_MEMORY);
  CHECK(f.message.rfind("out of memory while building the model of /m (std::bad_alloc)", 0) == 0);
}

TEST_CASE("a step that succeeds passes its value through") {
  CHECK(host::naming_out_of_memory("adding", [] { return 2 + 2; }) == 4);
}
