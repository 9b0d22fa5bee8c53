// Interchange with Debian's python3-zarr (the reader Megatron used): zarr-python opens what we write,
// bit-exact; we read what zarr-python writes with chunkings unlike the regions we ask for. The cases skip
// with a message when /usr/bin/python3 or its zarr module is missing (scripts/install-deps.sh installs it).
#include "checkpoint_driver.hpp"

#include <run_command.hpp>

#include <doctest/doctest.h>

#include <nlohmann/json.hpp>

#include <fstream>

using namespace ckpt_test;
using megaswift::testing::run_command;

namespace {

bool have_python_zarr() {
  static const bool ok = run_command("/usr/bin/python3 -c 'import zarr, numpy'").status == 0;
  return ok;
}

std::string script(const char* name) {
  return (megaswift::testing::source_dir() / "tests" / "fixtures" / "checkpoints" / name).string();
}

void write_file(const fs::path& p, const std::vector<char>& bytes) {
  std::ofstream(p, std::ios::binary).write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
}

std::vector<char> read_file(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  return std::vector<char>(std::istreambuf_iterator<char>(in), {});
}

}  // namespace

TEST_CASE("python3-zarr opens the zarr checkpoint we write: shapes, dtypes and values bit-exact") {
  if (!have_python_zarr()) {
    MESSAGE("skipped: /usr/bin/python3 cannot import zarr and numpy (install python3-zarr python3-numpy)");
    return;
  }
  struct T {
    std::string key;
    int32_t dtype;
    const char* zdtype;
    Dims shape, split;
  };
  const std::vector<T> ts = {{"embedding.word_embeddings.weight", MSW_DTYPE_F32, "<f4", {8, 6}, {4, 6}},
                             {"decoder.layers.self_attention.linear_qkv.weight", MSW_DTYPE_BF16, "bfloat16", {2, 4, 6}, {1, 4, 3}},
                             {"decoder.layers.mlp.linear_fc2.weight", MSW_DTYPE_F16, "<f2", {6, 4}, {6, 2}},
                             {"optimizer.state.step", MSW_DTYPE_I64, "<i8", {4}, {2}},
                             {"optimizer.param_groups.0.lr", MSW_DTYPE_F32, "<f4", {}, {}}};
  const fs::path root = fresh_dir("zarr_python_reads_ours");
  const fs::path ckpt = root / "ckpt", expected = root / "expected";
  fs::create_directories(ckpt);
  fs::create_directories(expected);
  nlohmann::json manifest = nlohmann::json::object();
  std::vector<std::vector<TestShard>> ranks(2);
  uint32_t seed = 11;
  for (const T& t : ts) {
    const auto bytes = global_bytes(t.dtype, t.shape, seed++);
    write_file(expected / (t.key + ".bin"), bytes);
    manifest[t.key] = {{"dtype", t.zdtype}, {"shape", t.shape}};
    // Every shard of the grid, dealt to the two ranks in turn.
    Dims grid(t.shape.size()), idx(t.shape.size(), 0);
    for (size_t d = 0; d < grid.size(); ++d) grid[d] = t.shape[d] / t.split[d];
    int n = 0;
    while (true) {
      Dims off(idx.size());
      for (size_t d = 0; d < idx.size(); ++d) off[d] = idx[d] * t.split[d];
      ranks[n++ % 2].push_back({t.key, t.dtype, t.shape, off, t.split, slice(bytes, t.dtype, t.shape, off, t.split)});
      size_t d = idx.size();
      while (d > 0 && ++idx[d - 1] == grid[d - 1]) idx[--d] = 0;
      if (d == 0) break;
    }
  }
  std::ofstream(expected / "manifest.json") << manifest.dump();
  Plugin p("zarr");
  p.save(ckpt, R"({"iteration": 1})", ranks);
  const auto r = run_command("/usr/bin/python3 " + script("zarr_check_ours.py") + " " + ckpt.string() + " " +
                             expected.string());
  INFO(r.output);
  CHECK(r.status == 0);
  CHECK(r.output.find("OK 5 arrays") != std::string::npos);
}

TEST_CASE("we read the zarr arrays python3-zarr writes, over chunkings unlike the regions we read") {
  if (!have_python_zarr()) {
    MESSAGE("skipped: /usr/bin/python3 cannot import zarr and numpy (install python3-zarr python3-numpy)");
    return;
  }
  const fs::path root = fresh_dir("zarr_we_read_python");
  const auto w = run_command("/usr/bin/python3 " + script("zarr_write_fixture.py") + " " + root.string());
  INFO(w.output);
  REQUIRE(w.status == 0);
  const auto manifest = nlohmann::json::parse(std::ifstream(root / "expected" / "manifest.json"));
  Plugin p("zarr");
  CHECK(p.probe(root / "ckpt") == 100);
  Reader r(p, root / "ckpt");
  CHECK(nlohmann::json::parse(r.common()) == nlohmann::json{{"iteration", 7}});
  REQUIRE(r.count() == manifest.size());
  for (size_t i = 0; i < r.count(); ++i) {
    const msw_tensor_info info = r.info(i);
    const std::string key = info.key;
    INFO(key);
    REQUIRE(manifest.contains(key));
    const std::string zd = manifest[key]["dtype"];
    const int32_t dtype = zd == "<f4" ? MSW_DTYPE_F32 : zd == "bfloat16" ? MSW_DTYPE_BF16
                          : zd == "<f2" ? MSW_DTYPE_F16 : MSW_DTYPE_I64;
    CHECK(info.dtype == dtype);
    const Dims shape = manifest[key]["shape"].get<Dims>();
    CHECK(Dims(info.global_shape, info.global_shape + info.ndim) == shape);
    const auto global = read_file(root / "expected" / (key + ".bin"));
    const Dims zero(shape.size(), 0);
    CHECK(r.read(key, dtype, zero, shape) == global);
    // Every 2-way split along every dimension, and an odd interior box.
    for (size_t d = 0; d < shape.size(); ++d)
      for (int half = 0; half < 2; ++half) {
        Dims off = zero, sh = shape;
        sh[d] = half ? shape[d] - shape[d] / 2 : shape[d] / 2;
        off[d] = half ? shape[d] / 2 : 0;
        CHECK(r.read(key, dtype, off, sh) == slice(global, dtype, shape, off, sh));
      }
    Dims off(shape.size(), 1), sh(shape.size());
    for (size_t d = 0; d < shape.size(); ++d) sh[d] = shape[d] - 2 > 0 ? shape[d] - 2 : 1;
    CHECK(r.read(key, dtype, off, sh) == slice(global, dtype, shape, off, sh));
  }
}
