// Hostile --model directories (issue 12): config.json as a FIFO or a device, and --model naming a file. Before the
// fix a FIFO config.json was taken for "no config.json" (is_regular_file) and the data went on without its
// max_model_len and model_type; each case is now refused by name, quickly.
#include "host/data/pipeline/error.hpp"
#include "host/data/pipeline/model_dir.hpp"
#include "hostile_input.hpp"
#include "scratch_dir.hpp"

#include <doctest/doctest.h>

#include <sys/stat.h>

#include <fstream>

using namespace megaswift;
namespace fs = std::filesystem;

namespace {

const bool kWatchdog = test::arm_watchdog(60);

std::string open_error(const fs::path& model) {
  try {
    data::open_model_directory(model.string());
  } catch (const data::DataPipelineError& e) {
    return e.what();
  }
  return "(no error)";
}

fs::path model_dir(const char* name) {
  const fs::path dir = testing::scratch_dir("msw_hostile_model_dir") / name;
  fs::create_directories(dir);
  return dir;
}

}  // namespace

TEST_CASE("a FIFO config.json in --model is refused by name, not read as 'no config.json' or blocked on") {
  const fs::path dir = model_dir("fifo");
  REQUIRE(::mkfifo((dir / "config.json").c_str(), 0600) == 0);
  std::string message;
  const auto bound = test::measure([&] { message = open_error(dir); });
  CHECK(message.find("model config " + (dir / "config.json").string() + " is a FIFO (named pipe), not a regular "
                     "file") == 0);
  CHECK(bound.seconds < 5);
}

TEST_CASE("config.json linked to /dev/zero is refused as a character device, in bounded memory") {
  const fs::path dir = model_dir("zero");
  fs::create_symlink("/dev/zero", dir / "config.json");
  std::string message;
  const auto bound = test::measure([&] { message = open_error(dir); });
  CHECK(message.find("is a character device, not a regular file") != std::string::npos);
  CHECK(bound.peak_growth_mib < 64);
}

TEST_CASE("a --model that is a file, or missing, is refused naming it") {
  const fs::path dir = model_dir("file");
  std::ofstream(dir / "model.safetensors") << "x";
  CHECK(open_error(dir / "model.safetensors").find("is a file, not a directory") != std::string::npos);
  CHECK(open_error(dir / "absent").find("is not a local directory") != std::string::npos);
}

TEST_CASE("a directory without config.json still opens (the tokenizer may be all there is)") {
  const fs::path dir = model_dir("bare");
  CHECK(data::open_model_directory(dir.string()).config.empty());
}
