// TensorBoardWriter: file naming, round trip through read_scalars, buffering (queue_size, flush, destructor), and
// read_scalars' reports on damaged files.
#include "host/core/status.hpp"
#include "host/report/tensorboard_writer.hpp"
#include "host/report/tfrecord.hpp"
#include "host/report/write_policy.hpp"

#include <scratch_dir.hpp>
#include <test_paths.hpp>

#include <doctest/doctest.h>

#include <nlohmann/json.hpp>

#include <unistd.h>

#include <chrono>
#include <fstream>
#include <iterator>
#include <regex>

namespace fs = std::filesystem;
using namespace megaswift::report;
using megaswift::host::HostError;

namespace {

fs::path fresh(const std::string& name) {
  const fs::path dir = megaswift::testing::scratch_dir("msw_report_writer") / name;
  fs::remove_all(dir);
  return dir;
}

std::string slurp(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

void spit(const fs::path& p, const std::string& bytes) {
  std::ofstream(p, std::ios::binary | std::ios::trunc).write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
}

std::string error_of(const fs::path& file) {
  try {
    read_scalars(file);
  } catch (const HostError& e) {
    return e.what();
  }
  return "no error";
}

}  // namespace

TEST_CASE("the writer creates the directory and a file named events.out.tfevents.<secs>.<host>.<pid>.<n>") {
  const fs::path dir = fresh("naming") / "nested" / "tb";
  const auto before = std::chrono::system_clock::now();
  TensorBoardWriter a(dir), b(dir);
  char host[256] = {};
  ::gethostname(host, sizeof(host) - 1);
  const std::regex pattern(R"(events\.out\.tfevents\.(\d+)\.(.+)\.(\d+)\.(\d+))");
  std::smatch m;
  const std::string name = a.file().filename().string();
  REQUIRE(std::regex_match(name, m, pattern));
  const auto secs = std::chrono::duration_cast<std::chrono::seconds>(before.time_since_epoch()).count();
  CHECK(std::stoll(m[1]) >= secs);
  CHECK(std::stoll(m[1]) <= secs + 5);
  CHECK(m[2] == std::string(host));
  CHECK(std::stol(m[3]) == ::getpid());
  CHECK(a.file().parent_path() == dir);
  CHECK(a.file() != b.file());  // two writers in one second get different counters
  CHECK(fs::exists(a.file()));
}

TEST_CASE("a new event file starts with the file_version event brain.Event:2 and holds no scalars") {
  const fs::path dir = fresh("version");
  TensorBoardWriter w(dir);
  const std::string bytes = slurp(w.file());
  const auto records = split_records(bytes, w.file());
  REQUIRE(records.size() == 1);
  CHECK(records[0].data.find("brain.Event:2") != std::string_view::npos);
  CHECK(read_scalars(w.file()).empty());
}

TEST_CASE("scalars round-trip through read_scalars with tag, step, wall time and float value") {
  const fs::path dir = fresh("round_trip");
  fs::path file;
  {
    TensorBoardWriter w(dir, 4);
    file = w.file();
    for (int64_t step = 1; step <= 10; ++step) {
      w.add_scalar("train/loss", 10.0 / static_cast<double>(step), step, 1700000000.25 + static_cast<double>(step));
      w.add_scalar("train/learning_rate", 1e-5 * static_cast<double>(step), step, 1700000000.5);
    }
    w.add_scalar("train/grad_norm", -0.0, 0, 1.0);
    w.add_scalar("eval/loss", 3.0, int64_t{1} << 40, 2.0);
    w.add_scalar("eval/neg", -123.456, -3, 2.0);
  }
  const auto s = read_scalars(file);
  REQUIRE(s.size() == 23);
  for (int64_t step = 1; step <= 10; ++step) {
    const auto& loss = s[static_cast<std::size_t>(2 * (step - 1))];
    const auto& lr = s[static_cast<std::size_t>(2 * (step - 1) + 1)];
    CHECK(loss.tag == "train/loss");
    CHECK(loss.step == step);
    CHECK(loss.wall_time == 1700000000.25 + static_cast<double>(step));
    CHECK(loss.value == static_cast<float>(10.0 / static_cast<double>(step)));
    CHECK(lr.tag == "train/learning_rate");
    CHECK(lr.value == static_cast<float>(1e-5 * static_cast<double>(step)));
    CHECK(lr.wall_time == 1700000000.5);
  }
  CHECK(s[20].tag == "train/grad_norm");
  CHECK(s[20].step == 0);
  CHECK(s[21].step == int64_t{1} << 40);
  CHECK(s[22].step == -3);
  CHECK(s[22].value == -123.456f);
}

TEST_CASE("add_scalar without a wall time stamps the current time") {
  const fs::path dir = fresh("now");
  const double before = std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();
  TensorBoardWriter w(dir);
  w.add_scalar("x", 1.0, 5);
  w.flush();
  const double after = std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();
  const auto s = read_scalars(w.file());
  REQUIRE(s.size() == 1);
  CHECK(s[0].wall_time >= before);
  CHECK(s[0].wall_time <= after);
}

TEST_CASE("queue_size scalars are buffered before a write; flush writes the rest") {
  const fs::path dir = fresh("queue");
  TensorBoardWriter w(dir, 3);
  w.add_scalar("a", 1, 1, 1.0);
  w.add_scalar("a", 2, 2, 1.0);
  CHECK(read_scalars(w.file()).empty());  // still queued
  w.add_scalar("a", 3, 3, 1.0);
  CHECK(read_scalars(w.file()).size() == 3);  // the queue filled up and was written
  w.add_scalar("a", 4, 4, 1.0);
  CHECK(read_scalars(w.file()).size() == 3);
  w.flush();
  CHECK(read_scalars(w.file()).size() == 4);
  w.flush();  // nothing pending: writes nothing twice
  CHECK(read_scalars(w.file()).size() == 4);
}

TEST_CASE("queued scalars are written when the queue is full or the oldest has waited two minutes") {
  using std::chrono::seconds;
  CHECK_FALSE(queue_write_due(2, 3, seconds(0)));
  CHECK(queue_write_due(3, 3, seconds(0)));
  CHECK_FALSE(queue_write_due(1, 50, seconds(119)));
  CHECK(queue_write_due(1, 50, seconds(120)));
}

TEST_CASE("destroying the writer loses no queued scalar") {
  const fs::path dir = fresh("destroy");
  fs::path file;
  {
    TensorBoardWriter w(dir, 1000);
    file = w.file();
    for (int i = 0; i < 257; ++i) w.add_scalar("train/loss", i, i, 1.0);
    CHECK(read_scalars(file).empty());
  }
  const auto s = read_scalars(file);
  REQUIRE(s.size() == 257);
  CHECK(s.back().step == 256);
  CHECK(s.back().value == 256.0f);
}

TEST_CASE("a queue_size of 0 writes every scalar at once") {
  const fs::path dir = fresh("queue0");
  TensorBoardWriter w(dir, 0);
  w.add_scalar("a", 1, 1);
  CHECK(read_scalars(w.file()).size() == 1);
}

TEST_CASE("a corrupted data byte is reported with the file and the record's byte offset") {
  const fs::path dir = fresh("corrupt");
  fs::path file;
  {
    TensorBoardWriter w(dir);
    file = w.file();
    for (int i = 0; i < 3; ++i) w.add_scalar("train/loss", 1.0 + i, i, 5.0);
  }
  std::string bytes = slurp(file);
  const auto records = split_records(bytes, file);
  REQUIRE(records.size() == 4);
  const uint64_t second_scalar = records[2].offset;
  bytes[second_scalar + 12 + 3] ^= 0x01;  // one bit inside the record's data
  spit(file, bytes);
  const std::string err = error_of(file);
  CHECK(err.find(file.string()) != std::string::npos);
  CHECK(err.find("data CRC mismatch") != std::string::npos);
  CHECK(err.find("byte offset " + std::to_string(second_scalar)) != std::string::npos);

  bytes[second_scalar + 12 + 3] ^= 0x01;
  bytes[records[3].offset + 2] ^= 0x40;  // the length field of the last record
  spit(file, bytes);
  const std::string err2 = error_of(file);
  CHECK(err2.find("length CRC mismatch") != std::string::npos);
  CHECK(err2.find("byte offset " + std::to_string(records[3].offset)) != std::string::npos);
}

TEST_CASE("a truncated file is reported with the file and the byte offset of the cut record") {
  const fs::path dir = fresh("truncated");
  fs::path file;
  {
    TensorBoardWriter w(dir);
    file = w.file();
    for (int i = 0; i < 3; ++i) w.add_scalar("train/loss", 1.0 + i, i, 5.0);
  }
  const std::string bytes = slurp(file);
  const auto records = split_records(bytes, file);
  const uint64_t last = records.back().offset;
  spit(file, bytes.substr(0, bytes.size() - 3));  // inside the last record's data CRC
  std::string err = error_of(file);
  CHECK(err.find(file.string()) != std::string::npos);
  CHECK(err.find("truncated record") != std::string::npos);
  CHECK(err.find("byte offset " + std::to_string(last)) != std::string::npos);
  spit(file, bytes.substr(0, last + 5));  // inside the last record's header
  err = error_of(file);
  CHECK(err.find("truncated record header") != std::string::npos);
  CHECK(err.find("byte offset " + std::to_string(last)) != std::string::npos);
  spit(file, bytes.substr(0, last));  // cut at a record boundary: a shorter but valid file
  CHECK(read_scalars(file).size() == 2);
}

TEST_CASE("read_scalars of a missing file names it") {
  const fs::path missing = fresh("missing") / "events.out.tfevents.0.h.1.0";
  const std::string name = missing.string();
  CHECK_THROWS_WITH_AS(read_scalars(missing), doctest::Contains(name.c_str()), HostError);
}

TEST_CASE("a log directory that cannot be created is an error naming it") {
  const fs::path root = fresh("blocked");
  fs::create_directories(root);
  spit(root / "file", "x");
  const std::string blocked = (root / "file" / "tb").string();
  CHECK_THROWS_WITH_AS(TensorBoardWriter(root / "file" / "tb"), doctest::Contains(blocked.c_str()), HostError);
}

TEST_CASE("read_scalars reads torch SummaryWriter's file and skips tensor scalars, histograms and text") {
  // Golden file written by torch 2.x's SummaryWriter with tests/fixtures/report/make_torch_events.py.
  const fs::path dir = megaswift::testing::source_dir() / "tests" / "fixtures" / "report" / "torch_events";
  fs::path file;
  for (const auto& entry : fs::directory_iterator(dir))
    if (entry.path().filename().string().rfind("events.out.tfevents.", 0) == 0) file = entry.path();
  REQUIRE_FALSE(file.empty());
  const auto expected = nlohmann::json::parse(slurp(dir / "expected.json"));
  const auto s = read_scalars(file);
  REQUIRE(s.size() == expected.size());
  for (std::size_t i = 0; i < s.size(); ++i) {
    INFO("scalar " << i);
    CHECK(s[i].tag == expected[i][0].get<std::string>());
    CHECK(s[i].step == expected[i][1].get<int64_t>());
    CHECK(s[i].wall_time == expected[i][2].get<double>());
    CHECK(s[i].value == static_cast<float>(expected[i][3].get<double>()));
  }
}
