// What a load does with the states a kill -9 or a damaged disk leaves in a save directory (issue 12): the tracker
// is followed when it can be; otherwise the newest iteration directory that opens is loaded, with a warning. Files
// of atomic writes killed midway are reported by loads and removed by the next save.
#include "core_support.hpp"

#include "host/checkpoint/layout.hpp"
#include "host/checkpoint/load.hpp"
#include "host/checkpoint/model_io.hpp"
#include "host/checkpoint/save.hpp"
#include "host/core/status.hpp"

#include <doctest/doctest.h>

#include <fstream>

namespace fs = std::filesystem;
namespace host = megaswift::host;
using ckpt_test::cpu_view;

namespace {

void save_value(const fs::path& dir, int64_t it, float value) {
  std::vector<float> a(8, value);
  host::SaveRequest req{dir, it, host::common_state(it, {{"model_type", "toy"}}), nullptr, {}};
  host::save_checkpoint(ckpt_test::rawdir(), req, [&](host::CheckpointFormat::Writer& w) {
    std::vector<host::TensorShard> shards = {{"a", {8}, {0}, cpu_view(a.data(), MSW_DTYPE_F32, {8})}};
    w.write(shards);
  });
}

// The iteration and the value of what --load picks.
std::pair<int64_t, float> load(const fs::path& dir) {
  auto c = host::open_checkpoint(ckpt_test::registry(), dir, {});
  REQUIRE(c);
  std::vector<float> a(8);
  c->reader->read_region("a", std::vector<int64_t>{0}, cpu_view(a.data(), MSW_DTYPE_F32, {8}));
  return {c->iteration, a[3]};
}

void write(const fs::path& p, const std::string& text) { std::ofstream(p, std::ios::trunc | std::ios::binary) << text; }

}  // namespace

TEST_CASE("a tracker naming a directory that is gone: the newest iteration directory that opens is loaded") {
  ckpt_test::ScratchDir s("recover_missing");
  save_value(s.path, 2, 2.0f);
  save_value(s.path, 4, 4.0f);
  fs::remove_all(s.path / "iter_0000004");
  CHECK(load(s.path) == std::pair<int64_t, float>{2, 2.0f});
}

TEST_CASE("a tracker naming a directory that does not open: the next newest one is loaded") {
  ckpt_test::ScratchDir s("recover_partial");
  save_value(s.path, 2, 2.0f);
  save_value(s.path, 4, 4.0f);
  save_value(s.path, 6, 6.0f);
  write(s.path / "iter_0000006" / "index.json", "{\"trunc");  // a copy cut short, not one of our saves
  fs::remove(s.path / "iter_0000004" / "index.json");          // no format recognises it any more
  CHECK(load(s.path) == std::pair<int64_t, float>{2, 2.0f});
}

TEST_CASE("no tracker beside iteration directories (killed before the first tracker write): the newest loads") {
  ckpt_test::ScratchDir s("recover_no_tracker");
  save_value(s.path, 2, 2.0f);
  save_value(s.path, 4, 4.0f);
  fs::remove(s.path / host::kTrackerFile);
  CHECK(load(s.path) == std::pair<int64_t, float>{4, 4.0f});
  // Names that only look like iteration directories are not candidates.
  fs::create_directories(s.path / "iter_9");
  fs::create_directories(s.path / "iter_00000x8");
  write(s.path / "iter_0000010", "a file");
  CHECK(host::iteration_dirs_on_disk(s.path) == std::vector<int64_t>{4, 2});
}

TEST_CASE("the tracker wins over a newer directory a save renamed before it was killed") {
  ckpt_test::ScratchDir s("recover_newer");
  save_value(s.path, 2, 2.0f);
  save_value(s.path, 4, 4.0f);
  write(s.path / host::kTrackerFile, "2");
  CHECK(load(s.path) == std::pair<int64_t, float>{2, 2.0f});
}

TEST_CASE("a tracker that is not a number: the directories are tried, and without any it is the error naming the file") {
  ckpt_test::ScratchDir s("recover_bad_tracker");
  write(s.path / host::kTrackerFile, "4x");
  CHECK_THROWS_WITH_AS(host::open_checkpoint(ckpt_test::registry(), s.path, {}),
                       doctest::Contains("holds '4x', expected an iteration number or 'release'"), host::HostError);
  save_value(s.path, 4, 4.0f);
  write(s.path / host::kTrackerFile, "");
  CHECK(load(s.path) == std::pair<int64_t, float>{4, 4.0f});
}

TEST_CASE("when no directory opens, the error is the tracker's directory's") {
  ckpt_test::ScratchDir s("recover_none");
  save_value(s.path, 2, 2.0f);
  fs::remove(s.path / "iter_0000002" / "index.json");
  write(s.path / host::kTrackerFile, "4");
  CHECK_THROWS_WITH_AS(host::open_checkpoint(ckpt_test::registry(), s.path, {}),
                       doctest::Contains("iter_0000004 does not exist"), host::HostError);
}

TEST_CASE("temporary files and directories of writes killed midway are listed for loads and removed by the next save") {
  ckpt_test::ScratchDir s("recover_leftovers");
  save_value(s.path, 2, 2.0f);
  write(s.path / ("." + std::string(host::kTrackerFile) + ".tmp-4242"), "4");
  write(s.path / ".args.json.tmp-4242", "{\"sa");
  fs::create_directories(s.path / ".iter_0000004.tmp-4242");
  write(s.path / ".keep.tmp-notapid", "not ours");
  CHECK(host::unfinished_save_leftovers(s.path).size() == 3);
  CHECK(load(s.path) == std::pair<int64_t, float>{2, 2.0f});
  save_value(s.path, 4, 4.0f);
  CHECK(host::unfinished_save_leftovers(s.path).empty());
  CHECK(fs::exists(s.path / ".keep.tmp-notapid"));
  CHECK(load(s.path) == std::pair<int64_t, float>{4, 4.0f});
}
