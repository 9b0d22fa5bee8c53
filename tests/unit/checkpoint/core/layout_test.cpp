// Megatron's directory layout and atomic saves: the tracker text, the iteration directory names, args.json and
// model files beside them, a save that fails midway or a stale temporary directory leaving the previous
// checkpoint loadable, and the cleanup at the next save.
#include "core_support.hpp"

#include "host/checkpoint/layout.hpp"
#include "host/checkpoint/load.hpp"
#include "host/checkpoint/model_io.hpp"
#include "host/checkpoint/save.hpp"
#include "host/core/status.hpp"

#include <doctest/doctest.h>

#include <cstdlib>
#include <fstream>
#include <sstream>

namespace fs = std::filesystem;
namespace host = megaswift::host;
using ckpt_test::cpu_view;
using nlohmann::json;

namespace {

std::string slurp(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

// Saves two tensors "a" and "b" of 16 floats filled with `value` as iteration `it`.
void save_values(const fs::path& dir, int64_t it, float value, const fs::path& model_dir = {}) {
  std::vector<float> a(16, value), b(16, value + 1);
  const host::CheckpointFormat fmt = ckpt_test::rawdir();
  host::SaveRequest req{dir, it, host::common_state(it, {{"model_type", "toy"}}), {{"model_type", "toy"}}, model_dir};
  host::save_checkpoint(fmt, req, [&](host::CheckpointFormat::Writer& w) {
    std::vector<host::TensorShard> shards = {{"a", {16}, {0}, cpu_view(a.data(), MSW_DTYPE_F32, {16})},
                                             {"b", {16}, {0}, cpu_view(b.data(), MSW_DTYPE_F32, {16})}};
    w.write(shards);
  });
}

float loaded_value(const fs::path& dir, int64_t* iteration = nullptr) {
  auto c = host::open_checkpoint(ckpt_test::registry(), dir, {});
  REQUIRE(c);
  if (iteration) *iteration = c->iteration;
  std::vector<float> a(16);
  c->reader->read_region("a", std::vector<int64_t>{0}, cpu_view(a.data(), MSW_DTYPE_F32, {16}));
  return a[5];
}

std::vector<std::string> hidden_entries(const fs::path& dir) {
  std::vector<std::string> out;
  for (const auto& e : fs::directory_iterator(dir))
    if (e.path().filename().string()[0] == '.') out.push_back(e.path().filename().string());
  return out;
}

}  // namespace

TEST_CASE("iteration directories and the tracker follow Megatron") {
  CHECK(host::iteration_dir_name(100) == "iter_0000100");
  CHECK(host::iteration_dir_name(1) == "iter_0000001");
  CHECK(host::iteration_dir_name(-1) == "release");
  ckpt_test::ScratchDir s("tracker");
  CHECK_FALSE(host::read_tracker(s.path));
  std::ofstream(s.path / host::kTrackerFile) << "release\n";
  CHECK(host::read_tracker(s.path) == -1);
  std::ofstream(s.path / host::kTrackerFile) << "12x";
  CHECK_THROWS_WITH_AS(host::read_tracker(s.path), doctest::Contains("expected an iteration number or 'release'"),
                       host::HostError);
}

TEST_CASE("a save writes iter_XXXXXXX, args.json, the model files and the tracker without a newline") {
  ckpt_test::ScratchDir s("save");
  const fs::path model = s.path / "hf";
  fs::create_directories(model);
  std::ofstream(model / "config.json") << "{\"model_type\":\"toy\"}";
  std::ofstream(model / "tokenizer.json") << "{}";
  const fs::path save = s.path / "ckpt";
  save_values(save, 100, 1.5f, model);
  CHECK(slurp(save / host::kTrackerFile) == "100");
  CHECK(fs::is_directory(save / "iter_0000100"));
  CHECK(json::parse(slurp(save / "args.json"))["model_type"] == "toy");
  CHECK(slurp(save / "config.json") == "{\"model_type\":\"toy\"}");
  CHECK(fs::exists(save / "tokenizer.json"));
  CHECK(hidden_entries(save).empty());
  int64_t it = 0;
  CHECK(loaded_value(save, &it) == 1.5f);
  CHECK(it == 100);

  // The same iteration saved again replaces the directory; nothing is left aside.
  save_values(save, 100, 2.5f);
  CHECK(loaded_value(save) == 2.5f);
  CHECK(hidden_entries(save).empty());
}

TEST_CASE("a save that fails midway leaves the previous checkpoint loadable") {
  ckpt_test::ScratchDir s("crash");
  save_values(s.path, 100, 1.0f);
  ::setenv("MSW_RAWDIR_FAIL_AT_KEY", "b", 1);
  CHECK_THROWS_WITH_AS(save_values(s.path, 200, 9.0f), doctest::Contains("injected failure writing b"),
                       host::HostError);
  ::unsetenv("MSW_RAWDIR_FAIL_AT_KEY");
  CHECK(slurp(s.path / host::kTrackerFile) == "100");
  CHECK_FALSE(fs::exists(s.path / "iter_0000200"));
  CHECK(hidden_entries(s.path).empty());  // the failed save's temporary directory is gone
  int64_t it = 0;
  CHECK(loaded_value(s.path, &it) == 1.0f);
  CHECK(it == 100);
}

TEST_CASE("a stale temporary directory of a crashed save is ignored by loads and removed by the next save") {
  ckpt_test::ScratchDir s("stale");
  save_values(s.path, 100, 1.0f);
  // What a process killed mid-save leaves: a partial temporary directory, the tracker untouched.
  const fs::path stale = s.path / ".iter_0000200.tmp-999999";
  fs::create_directories(stale);
  std::ofstream(stale / "r0_0.bin") << "partial";
  CHECK(loaded_value(s.path) == 1.0f);
  save_values(s.path, 300, 3.0f);
  CHECK_FALSE(fs::exists(stale));
  int64_t it = 0;
  CHECK(loaded_value(s.path, &it) == 3.0f);
  CHECK(it == 300);
}

TEST_CASE("a crash between the renames that replace the same iteration leaves the old copy loadable and restored") {
  ckpt_test::ScratchDir s("aside");
  save_values(s.path, 100, 1.0f);
  // The state such a crash leaves: the old directory moved aside, the new one not yet renamed into place.
  fs::rename(s.path / "iter_0000100", s.path / ".iter_0000100.old-424242");
  fs::create_directories(s.path / ".iter_0000100.tmp-424242");
  CHECK(loaded_value(s.path) == 1.0f);
  // The next save (another iteration) puts the old copy back before removing the temporary directories.
  ::setenv("MSW_RAWDIR_FAIL_AT_KEY", "a", 1);
  CHECK_THROWS_AS(save_values(s.path, 200, 2.0f), host::HostError);
  ::unsetenv("MSW_RAWDIR_FAIL_AT_KEY");
  CHECK(fs::is_directory(s.path / "iter_0000100"));
  CHECK(hidden_entries(s.path).empty());
  int64_t it = 0;
  CHECK(loaded_value(s.path, &it) == 1.0f);
  CHECK(it == 100);
}
