// Hostile safetensors files (issue 12): a FIFO or a device in place of the weights, and crafted headers whose shapes
// overflow 64 bits or whose fields have the wrong JSON type. Each is refused with a message naming the file and the
// tensor; before the fix the FIFO blocked forever and a wrapping element count was accepted.
#include "host/core/status.hpp"
#include "host/model/safetensors.hpp"
#include "hostile_input.hpp"
#include "scratch_dir.hpp"

#include <doctest/doctest.h>

#include <sys/stat.h>

#include <fstream>

using namespace megaswift;
namespace fs = std::filesystem;

namespace {

const bool kWatchdog = test::arm_watchdog(60);

fs::path scratch() { return testing::scratch_dir("msw_hostile_safetensors"); }

// A file with `header` as its JSON header and `data_bytes` zero bytes of data.
fs::path write_raw(const std::string& name, const std::string& header, size_t data_bytes) {
  const fs::path p = scratch() / name;
  std::ofstream out(p, std::ios::binary);
  const uint64_t n = header.size();
  out.write(reinterpret_cast<const char*>(&n), 8);  // little-endian length, as on every host we build for
  out << header << std::string(data_bytes, '\0');
  return p;
}

std::string open_error(const fs::path& p) {
  try {
    host::SafetensorsFile f(p);
  } catch (const host::HostError& e) {
    return e.what();
  }
  return "(no error)";
}

}  // namespace

TEST_CASE("a FIFO named model.safetensors is refused by name instead of blocking forever") {
  const fs::path fifo = scratch() / "model.safetensors";
  REQUIRE(::mkfifo(fifo.c_str(), 0600) == 0);
  std::string message;
  const auto bound = test::measure([&] { message = open_error(fifo); });
  CHECK(message == "safetensors file " + fifo.string() + " is a FIFO (named pipe), not a regular file: only regular "
                   "files are read (a pipe or a device could block or never end); copy the data into a file and "
                   "pass that");
  CHECK(bound.seconds < 5);
}

TEST_CASE("a FIFO as the weights of a model directory is refused when the checkpoint is opened") {
  const fs::path dir = scratch() / "model_dir";
  fs::create_directories(dir);
  REQUIRE(::mkfifo((dir / "model.safetensors").c_str(), 0600) == 0);
  std::string message;
  try {
    host::SafetensorsCheckpoint ckpt(dir);
  } catch (const host::HostError& e) {
    message = e.what();
  }
  CHECK(message.find("model.safetensors is a FIFO (named pipe), not a regular file") != std::string::npos);
}

TEST_CASE("/dev/zero as a safetensors file is refused as a character device") {
  CHECK(open_error("/dev/zero").find("/dev/zero is a character device, not a regular file") != std::string::npos);
}

TEST_CASE("a shape whose element count wraps around 64 bits is refused, not matched to empty data") {
  // 2^32 x 2^32 = 2^64 wraps to 0 elements, which matched data_offsets [0, 0] before the checked multiplication.
  const fs::path p = write_raw("wrap.safetensors",
                               R"({"w":{"dtype":"F32","shape":[4294967296,4294967296],"data_offsets":[0,0]}})", 0);
  CHECK(open_error(p) == "safetensors file " + p.string() + ": tensor 'w' F32 [4294967296, 4294967296] has more "
                         "elements than 64 bits can count (corrupt header?)");
}

TEST_CASE("a shape whose byte count wraps around 64 bits is refused") {
  // 2^61 elements fit, 2^61 x 32 bits do not: (numel * bits) wrapped to 0 before.
  const fs::path p = write_raw("bits.safetensors",
                               R"({"w":{"dtype":"F32","shape":[2305843009213693952],"data_offsets":[0,0]}})", 0);
  CHECK(open_error(p).find("tensor 'w' F32 [2305843009213693952] has more elements than 64 bits can count") !=
        std::string::npos);
}

TEST_CASE("a dimension above 2^63 is refused instead of turning negative") {
  const fs::path p = write_raw("huge_dim.safetensors",
                               R"({"w":{"dtype":"U8","shape":[18446744073709551615],"data_offsets":[0,0]}})", 0);
  CHECK(open_error(p).find("tensor 'w' has a dimension above 2^63") != std::string::npos);
}

TEST_CASE("header fields of the wrong JSON type are named, not a raw JSON-library exception") {
  struct Case {
    const char* header;
    const char* expected;
  };
  const Case cases[] = {
      {R"({"w":{"dtype":7,"shape":[1],"data_offsets":[0,4]}})", "tensor 'w' dtype is not a string"},
      {R"({"w":{"dtype":"F32","shape":"4","data_offsets":[0,4]}})", "tensor 'w' shape is not a list"},
      {R"({"w":{"dtype":"F32","shape":["1"],"data_offsets":[0,4]}})",
       "tensor 'w' has a dimension that is not an integer (\"1\")"},
      {R"({"w":{"dtype":"F32","shape":[1.5],"data_offsets":[0,4]}})",
       "tensor 'w' has a dimension that is not an integer (1.5)"},
      {R"({"w":{"dtype":"F32","shape":[1],"data_offsets":[-1,4]}})",
       "tensor 'w' data_offsets is not [begin, end] of byte positions"},
      {R"({"w":{"dtype":"F32","shape":[1],"data_offsets":["0",4]}})",
       "tensor 'w' data_offsets is not [begin, end] of byte positions"},
  };
  for (const Case& c : cases) {
    CAPTURE(c.header);
    const fs::path p = write_raw("typed.safetensors", c.header, 4);
    const std::string message = open_error(p);
    CHECK(message.find(c.expected) != std::string::npos);
    CHECK(message.find("[json.exception") == std::string::npos);
  }
}

TEST_CASE("a well-formed header still opens (the checks refuse only what is wrong)") {
  const fs::path p = write_raw("ok.safetensors", R"({"w":{"dtype":"F32","shape":[2,3],"data_offsets":[0,24]}})", 24);
  host::SafetensorsFile f(p);
  REQUIRE(f.find("w") != nullptr);
  CHECK(f.find("w")->shape == std::vector<int64_t>{2, 3});
}
