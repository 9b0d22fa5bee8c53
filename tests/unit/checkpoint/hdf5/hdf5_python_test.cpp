// Interchange with Debian's python3-h5py: h5py reads the datasets, attributes and values we write, and we
// read what h5py writes in our layout (without an index). Skips with a message when h5py is missing.
#include "checkpoint_driver.hpp"

#include <run_command.hpp>

#include <doctest/doctest.h>

#include <nlohmann/json.hpp>

#include <fstream>

using namespace ckpt_test;
using megaswift::testing::run_command;

namespace {

bool have_h5py() {
  static const bool ok = run_command("/usr/bin/python3 -c 'import h5py, numpy'").status == 0;
  return ok;
}

std::string script(const char* name) {
  return (megaswift::testing::source_dir() / "tests" / "fixtures" / "checkpoints" / name).string();
}

std::vector<char> read_file(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  return std::vector<char>(std::istreambuf_iterator<char>(in), {});
}

int32_t dtype_of(const std::string& name) {
  if (name == "float32") return MSW_DTYPE_F32;
  if (name == "bfloat16") return MSW_DTYPE_BF16;
  if (name == "float16") return MSW_DTYPE_F16;
  return MSW_DTYPE_I64;
}

}  // namespace

TEST_CASE("python3-h5py reads the hdf5 checkpoint we write: datasets, attributes, values, common state") {
  if (!have_h5py()) {
    MESSAGE("skipped: /usr/bin/python3 cannot import h5py and numpy (install python3-h5py python3-numpy)");
    return;
  }
  struct T {
    std::string key, dtype;
    Dims shape;
    size_t axis;
  };
  const std::vector<T> ts = {{"embedding.word_embeddings.weight", "float32", {8, 6}, 0},
                             {"decoder.layers.self_attention.linear_qkv.weight", "bfloat16", {2, 4, 6}, 0},
                             {"decoder.layers.mlp.linear_fc2.weight", "float16", {6, 4}, 1},
                             {"optimizer.state.step", "int64", {5}, 0}};
  const fs::path root = fresh_dir("hdf5_python_reads_ours");
  const fs::path ckpt = root / "ckpt", expected = root / "expected";
  fs::create_directories(ckpt);
  fs::create_directories(expected);
  nlohmann::json manifest = nlohmann::json::object();
  std::vector<std::vector<TestShard>> ranks(2);
  uint32_t seed = 31;
  for (const T& t : ts) {
    const int32_t dtype = dtype_of(t.dtype);
    const auto bytes = global_bytes(dtype, t.shape, seed++);
    std::ofstream(expected / (t.key + ".bin"), std::ios::binary).write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
    manifest[t.key] = {{"dtype", t.dtype}, {"shape", t.shape}};
    for (int i = 0; i < 2; ++i) {
      Dims off(t.shape.size(), 0), sh = t.shape;
      sh[t.axis] = i ? t.shape[t.axis] - 1 : 1;
      off[t.axis] = i ? 1 : 0;
      ranks[i].push_back({t.key, dtype, t.shape, off, sh, slice(bytes, dtype, t.shape, off, sh)});
    }
  }
  // A 0-d tensor (an optimizer scalar) on rank 0 only.
  const std::vector<char> lr = global_bytes(MSW_DTYPE_F32, {}, 77);
  std::ofstream(expected / "optimizer.param_groups.0.lr.bin", std::ios::binary).write(lr.data(), 4);
  manifest["optimizer.param_groups.0.lr"] = {{"dtype", "float32"}, {"shape", nlohmann::json::array()}};
  ranks[0].push_back({"optimizer.param_groups.0.lr", MSW_DTYPE_F32, {}, {}, {}, lr});
  const std::string common = R"({"iteration": 3, "checkpoint_version": 3.0, "args": {"lr": 0.5}, "rng_state": null})";
  std::ofstream(expected / "manifest.json") << manifest.dump();
  std::ofstream(expected / "common.json") << common;
  Plugin p("hdf5");
  p.save(ckpt, common, ranks);
  const auto r = run_command("/usr/bin/python3 " + script("hdf5_check_ours.py") + " " + ckpt.string() + " " +
                             expected.string());
  INFO(r.output);
  CHECK(r.status == 0);
  CHECK(r.output.find("OK 5 tensors") != std::string::npos);
  Reader back(p, ckpt);
  CHECK(back.read("optimizer.param_groups.0.lr", MSW_DTYPE_F32, {}, {}) == lr);
}

TEST_CASE("we read an hdf5 checkpoint h5py wrote in our layout, without an index, by any region") {
  if (!have_h5py()) {
    MESSAGE("skipped: /usr/bin/python3 cannot import h5py and numpy (install python3-h5py python3-numpy)");
    return;
  }
  const fs::path root = fresh_dir("hdf5_we_read_h5py");
  const auto w = run_command("/usr/bin/python3 " + script("hdf5_write_fixture.py") + " " + root.string());
  INFO(w.output);
  REQUIRE(w.status == 0);
  const auto manifest = nlohmann::json::parse(std::ifstream(root / "expected" / "manifest.json"));
  Plugin p("hdf5");
  CHECK(p.probe(root / "ckpt") == 40);
  Reader r(p, root / "ckpt");
  CHECK(nlohmann::json::parse(r.common()) == nlohmann::json::parse(std::ifstream(root / "expected" / "common.json")));
  REQUIRE(r.count() == manifest.size());
  for (size_t i = 0; i < r.count(); ++i) {
    const msw_tensor_info info = r.info(i);
    const std::string key = info.key;
    INFO(key);
    REQUIRE(manifest.contains(key));
    const int32_t dtype = dtype_of(manifest[key]["dtype"]);
    CHECK(info.dtype == dtype);
    const Dims shape = manifest[key]["shape"].get<Dims>();
    CHECK(Dims(info.global_shape, info.global_shape + info.ndim) == shape);
    const auto global = read_file(root / "expected" / (key + ".bin"));
    const Dims zero(shape.size(), 0);
    CHECK(r.read(key, dtype, zero, shape) == global);
    for (size_t d = 0; d < shape.size(); ++d)
      for (int half = 0; half < 2; ++half) {
        Dims off = zero, sh = shape;
        sh[d] = half ? shape[d] - shape[d] / 2 : shape[d] / 2;
        off[d] = half ? shape[d] / 2 : 0;
        CHECK(r.read(key, dtype, off, sh) == slice(global, dtype, shape, off, sh));
      }
  }
}

TEST_CASE("hdf5: an attribute of the wrong type (h5py wrote global_shape as a string) is a clear error") {
  if (!have_h5py()) {
    MESSAGE("skipped: /usr/bin/python3 cannot import h5py and numpy (install python3-h5py python3-numpy)");
    return;
  }
  const fs::path root = fresh_dir("hdf5_wrong_attr");
  REQUIRE(run_command("/usr/bin/python3 " + script("hdf5_write_fixture.py") + " " + root.string()).status == 0);
  const std::string edit =
      "import h5py; f = h5py.File('" + (root / "ckpt" / "rank_0.h5").string() +
      "', 'r+'); ds = f['tensors/optimizer.state.step/shard_0']; del ds.attrs['global_shape']; "
      "ds.attrs['global_shape'] = '(9,)'; f.close()";
  REQUIRE(run_command("/usr/bin/python3 -c \"" + edit + "\"").status == 0);
  Plugin p("hdf5");
  try {
    Reader r(p, root / "ckpt");
    FAIL("opened without error");
  } catch (const Error& e) {
    const std::string m = e.what();
    CHECK(m.find("rank_0.h5:/tensors/optimizer.state.step/shard_0") != std::string::npos);
    CHECK(m.find("attribute \"global_shape\" must be a list of integers") != std::string::npos);
  }
  // A dtype attribute that names no dtype.
  const std::string edit2 = "import h5py; f = h5py.File('" + (root / "ckpt" / "rank_0.h5").string() +
                            "', 'r+'); ds = f['tensors/optimizer.state.step/shard_0']; "
                            "del ds.attrs['global_shape']; ds.attrs['global_shape'] = [9]; ds.attrs['dtype'] = 'int128'; "
                            "f.close()";
  REQUIRE(run_command("/usr/bin/python3 -c \"" + edit2 + "\"").status == 0);
  CHECK_THROWS_WITH_AS(Reader(p, root / "ckpt"), doctest::Contains("\"int128\" is not a known dtype"), Error);
}
