// Independent check of our event files: tests/fixtures/report/read_tfevents.py parses the TFRecord framing, checks
// the masked CRC32Cs and decodes the Events with Debian's python3-protobuf. Skips with a message when
// /usr/bin/python3 has no google.protobuf.
#include "host/report/tensorboard_writer.hpp"

#include <run_command.hpp>
#include <scratch_dir.hpp>
#include <test_paths.hpp>
#include <tree_dependencies.hpp>

#include <doctest/doctest.h>

#include <nlohmann/json.hpp>

#include <fstream>
#include <iterator>

namespace fs = std::filesystem;
using namespace megaswift::report;
using megaswift::testing::run_command;
using megaswift::testing::shell_quoted;

namespace {

bool have_protobuf() {
  static const bool ok = run_command("/usr/bin/python3 -c 'import google.protobuf'").status == 0;
  return ok;
}

megaswift::testing::CommandResult read_with_python(const fs::path& file) {
  const fs::path script = megaswift::testing::source_dir() / "tests" / "fixtures" / "report" / "read_tfevents.py";
  // stderr to /dev/null: run_command merges it into the output, and the JSON is parsed from stdout alone.
  return run_command("/usr/bin/python3 " + shell_quoted(script) + " " + shell_quoted(file) + " 2>/dev/null");
}

}  // namespace

TEST_CASE("python3-protobuf decodes our event file to the same scalars, with valid CRCs and canonical bytes") {
  if (!have_protobuf()) {
    MESSAGE("skipped: /usr/bin/python3 cannot import google.protobuf (install python3-protobuf)");
    return;
  }
  const fs::path dir = megaswift::testing::scratch_dir("msw_report_python") / "tb";
  fs::path file;
  {
    TensorBoardWriter w(dir, 7);
    file = w.file();
    for (int64_t step = 1; step <= 30; ++step) {
      w.add_scalar("train/loss", 11.0 - 0.3 * static_cast<double>(step), step);
      w.add_scalar("train/learning_rate", 2e-5 * static_cast<double>(step) / 30.0, step,
                   1.7e9 + static_cast<double>(step));
    }
    w.add_scalar("train/grad_norm", 0.0, 0, 0.0);  // every proto3 default: only simple_value is written
    w.add_scalar("eval/loss", -1e30, int64_t{1} << 50, 1.0);
    w.add_scalar(std::string("tag with spaces/\xc3\xa9"), 3.25, -2, 4.5);
  }
  const auto ours = read_scalars(file);
  const auto r = read_with_python(file);
  INFO(r.output);
  REQUIRE(r.status == 0);
  const auto j = nlohmann::json::parse(r.output);
  CHECK(j["file_version"] == "brain.Event:2");
  CHECK(j["records"] == ours.size() + 1);
  CHECK(j["canonical"] == true);
  REQUIRE(j["scalars"].size() == ours.size());
  for (std::size_t i = 0; i < ours.size(); ++i) {
    const auto& p = j["scalars"][i];
    INFO("scalar " << i << " " << ours[i].tag);
    CHECK(p["tag"].get<std::string>() == ours[i].tag);
    CHECK(p["step"].get<int64_t>() == ours[i].step);
    CHECK(p["wall_time"].get<double>() == ours[i].wall_time);
    CHECK(static_cast<float>(p["value"].get<double>()) == ours[i].value);
  }
  CHECK(ours.back().tag == "tag with spaces/\xc3\xa9");
  CHECK(ours.back().step == -2);
}

TEST_CASE("the Python reader itself rejects a file with a flipped byte (the independent check can fail)") {
  if (!have_protobuf()) {
    MESSAGE("skipped: /usr/bin/python3 cannot import google.protobuf (install python3-protobuf)");
    return;
  }
  const fs::path dir = megaswift::testing::scratch_dir("msw_report_python") / "flipped";
  fs::path file;
  {
    TensorBoardWriter w(dir);
    file = w.file();
    w.add_scalar("train/loss", 1.0, 1);
  }
  std::string bytes;
  {
    std::ifstream in(file, std::ios::binary);
    bytes.assign(std::istreambuf_iterator<char>(in), {});
  }
  bytes[bytes.size() - 6] ^= 0x10;  // inside the scalar's float value
  std::ofstream(file, std::ios::binary | std::ios::trunc)
      .write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
  CHECK(read_with_python(file).status == 1);
}
