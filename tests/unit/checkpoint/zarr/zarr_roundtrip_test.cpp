// The zarr plugin on synthetic checkpoints: two ranks writing 2-way split shards into one directory, read
// back whole, by regions spanning chunks, and with float conversion; the exact .zarray text zarr-python
// writes; probe; and the refusals of uneven or duplicate shards.
#include "checkpoint_driver.hpp"

#include <doctest/doctest.h>

#include <nlohmann/json.hpp>

#include <fstream>
#include <sstream>

using namespace ckpt_test;

namespace {

const char* kCommon =
    R"({"iteration": 100, "checkpoint_version": 3.0, "args": {"hidden_size": 6, "lr": 0.0001, "name": "tiny"},)"
    R"( "opt_param_scheduler": null, "rng_state": [1, 2, 3], "data_state": {"consumed": 12345678901}})";

struct Tensor {
  std::string key;
  int32_t dtype;
  Dims shape;
  Dims split;  // the shard shape (2 shards)
  std::vector<char> bytes;
};

std::vector<Tensor> tensors() {
  std::vector<Tensor> t = {
      {"embedding.word_embeddings.weight", MSW_DTYPE_F32, {8, 6}, {4, 6}, {}},
      {"decoder.layers.self_attention.linear_qkv.weight", MSW_DTYPE_BF16, {2, 4, 6}, {1, 4, 6}, {}},
      {"decoder.layers.mlp.linear_fc2.weight", MSW_DTYPE_F16, {6, 4}, {6, 2}, {}},
      {"optimizer.state.step", MSW_DTYPE_I64, {4}, {2}, {}},
  };
  uint32_t seed = 1;
  for (Tensor& x : t) x.bytes = global_bytes(x.dtype, x.shape, seed++);
  return t;
}

// Shard i (0 or 1) of `t`.
TestShard shard(const Tensor& t, int i) {
  Dims offset(t.shape.size(), 0);
  for (size_t d = 0; d < t.shape.size(); ++d)
    if (t.split[d] != t.shape[d]) offset[d] = i * t.split[d];
  return {t.key, t.dtype, t.shape, offset, t.split, slice(t.bytes, t.dtype, t.shape, offset, t.split)};
}

fs::path save_two_ranks(const std::string& name, const std::vector<Tensor>& ts) {
  return save_from_two_ranks("zarr", name, ts, shard, kCommon);
}

}  // namespace

TEST_CASE("zarr round trip: F32/BF16/F16/I64 split 2-way by two writers read back bit-exact, whole and by region") {
  const auto ts = tensors();
  const fs::path dir = save_two_ranks("zarr_roundtrip", ts);
  Plugin p("zarr");
  Reader r(p, dir);
  CHECK(nlohmann::json::parse(r.common()) == nlohmann::json::parse(kCommon));
  CHECK(r.common() == kCommon);
  REQUIRE(r.count() == ts.size());
  for (size_t i = 0; i < r.count(); ++i) {
    const msw_tensor_info info = r.info(i);
    const Tensor* t = nullptr;
    for (const Tensor& x : ts)
      if (x.key == info.key) t = &x;
    REQUIRE(t != nullptr);
    CHECK(info.dtype == t->dtype);
    CHECK(Dims(info.global_shape, info.global_shape + info.ndim) == t->shape);
  }
  for (const Tensor& t : ts) {
    INFO(t.key);
    const Dims zero(t.shape.size(), 0);
    CHECK(r.read(t.key, t.dtype, zero, t.shape) == t.bytes);
    // Each shard alone (the chunk-sized fast path) and a region straddling the two chunks.
    for (int i = 0; i < 2; ++i) {
      const TestShard s = shard(t, i);
      CHECK(r.read(t.key, t.dtype, s.offset, s.shape) == s.bytes);
    }
    Dims off(t.shape.size(), 0), shape = t.shape;
    for (size_t d = 0; d < t.shape.size(); ++d)
      if (t.split[d] != t.shape[d]) off[d] = t.split[d] - 1, shape[d] = 2;
    CHECK(r.read(t.key, t.dtype, off, shape) == slice(t.bytes, t.dtype, t.shape, off, shape));
  }
  // Megatron's layout on disk: one directory per key, chunk files by grid index, metadata.json.
  CHECK(fs::is_regular_file(dir / "decoder.layers.self_attention.linear_qkv.weight" / "1.0.0"));
  CHECK(fs::is_regular_file(dir / "decoder.layers.mlp.linear_fc2.weight" / "0.1"));
  CHECK(fs::file_size(dir / "embedding.word_embeddings.weight" / "1.0") == 4 * 6 * 4);
  CHECK(slurp(dir / "metadata.json") == R"({"sharded_backend": "zarr", "sharded_backend_version": 1})");
}

TEST_CASE("zarr writes .zarray byte for byte as zarr-python 2.13.6 (Megatron's zarr.create), bf16 as \"bfloat16\"") {
  const fs::path dir = save_two_ranks("zarr_zarray_text", tensors());
  CHECK(slurp(dir / "embedding.word_embeddings.weight" / ".zarray") ==
        "{\n    \"chunks\": [\n        4,\n        6\n    ],\n    \"compressor\": null,\n    \"dtype\": \"<f4\",\n"
        "    \"fill_value\": null,\n    \"filters\": null,\n    \"order\": \"C\",\n    \"shape\": [\n        8,\n"
        "        6\n    ],\n    \"zarr_format\": 2\n}");
  const auto bf16 = nlohmann::json::parse(slurp(dir / "decoder.layers.self_attention.linear_qkv.weight" / ".zarray"));
  CHECK(bf16["dtype"] == "bfloat16");
  CHECK(bf16["chunks"] == nlohmann::json::array({1, 4, 6}));
  CHECK(nlohmann::json::parse(slurp(dir / "optimizer.state.step" / ".zarray"))["dtype"] == "<i8");
  CHECK(nlohmann::json::parse(slurp(dir / "decoder.layers.mlp.linear_fc2.weight" / ".zarray"))["dtype"] == "<f2");
}

TEST_CASE("zarr read_region converts between float types with round to nearest even and refuses int conversions") {
  Tensor t{"w", MSW_DTYPE_F32, {4}, {2}, {}};
  const float values[4] = {1.0f, 1.00390625f /* bf16 halfway, rounds to even 1.0 */, 1.01171875f /* up */, -2.5f};
  t.bytes.assign(reinterpret_cast<const char*>(values), reinterpret_cast<const char*>(values) + sizeof(values));
  Tensor i{"n", MSW_DTYPE_I64, {2}, {1}, global_bytes(MSW_DTYPE_I64, {2}, 9)};
  const fs::path dir = save_two_ranks("zarr_convert", {t, i});
  Plugin p("zarr");
  Reader r(p, dir);
  const auto bf = r.read("w", MSW_DTYPE_BF16, {0}, {4});
  uint16_t bits[4];
  std::memcpy(bits, bf.data(), 8);
  CHECK(bits[0] == 0x3f80);
  CHECK(bits[1] == 0x3f80);
  CHECK(bits[2] == 0x3f82);
  CHECK(bits[3] == 0xc020);
  const auto f64 = r.read("w", MSW_DTYPE_F64, {1}, {2});
  double d[2];
  std::memcpy(d, f64.data(), 16);
  CHECK(d[0] == 1.00390625);
  CHECK(d[1] == 1.01171875);
  CHECK_THROWS_WITH_AS(r.read("n", MSW_DTYPE_I32, {0}, {2}), doctest::Contains("cannot be read as int32"), Error);
  CHECK_THROWS_WITH_AS(r.read("w", MSW_DTYPE_F32, {3}, {2}), doctest::Contains("lies outside w"), Error);
  CHECK_THROWS_WITH_AS(r.read("missing", MSW_DTYPE_F32, {0}, {1}), doctest::Contains("has no array missing"), Error);
}

TEST_CASE("zarr probe: 100 for metadata.json with sharded_backend zarr, 60 for bare arrays, 0 otherwise") {
  Plugin p("zarr");
  const fs::path dir = save_two_ranks("zarr_probe", tensors());
  CHECK(p.probe(dir) == 100);
  fs::remove(dir / "metadata.json");
  CHECK(p.probe(dir) == 60);
  std::ofstream(dir / "metadata.json") << R"({"sharded_backend": "torch_dist", "sharded_backend_version": 1})";
  CHECK(p.probe(dir) == 0);
  CHECK(p.probe(fresh_dir("zarr_probe_empty")) == 0);
  CHECK(p.probe((dir / "nonexistent").string()) == 0);
}

TEST_CASE("zarr refuses shards that do not tile the tensor, shards of unequal shapes, and duplicates") {
  Plugin p("zarr");
  std::vector<char> b(8 * 4);
  {
    // 3 rows do not divide 8.
    std::vector<std::vector<TestShard>> ranks{{{"w", MSW_DTYPE_F32, {8}, {0}, {3}, b}}};
    CHECK_THROWS_WITH_AS(p.save(fresh_dir("zarr_uneven"), "{}", ranks), doctest::Contains("does not tile"), Error);
  }
  {
    // (2,) at 0 and (4,) at 4 each divide 8, but the chunk grid is (2,): caught after the barrier.
    std::vector<std::vector<TestShard>> ranks{{{"w", MSW_DTYPE_F32, {8}, {0}, {2}, b}},
                                              {{"w", MSW_DTYPE_F32, {8}, {4}, {4}, b}}};
    CHECK_THROWS_WITH_AS(p.save(fresh_dir("zarr_unequal"), "{}", ranks),
                         doctest::Contains("the shards of w have different shapes"), Error);
  }
  {
    std::vector<std::vector<TestShard>> ranks{{{"w", MSW_DTYPE_F32, {8}, {0}, {4}, b}},
                                              {{"w", MSW_DTYPE_F32, {8}, {0}, {4}, b}}};
    CHECK_THROWS_WITH_AS(p.save(fresh_dir("zarr_duplicate"), "{}", ranks), doctest::Contains("exists already"), Error);
  }
  {
    // Only the second half: the coordinator finds the missing chunk.
    std::vector<std::vector<TestShard>> ranks{{{"w", MSW_DTYPE_F32, {8}, {4}, {4}, b}}};
    CHECK_THROWS_WITH_AS(p.save(fresh_dir("zarr_no_origin"), "{}", ranks), doctest::Contains("at global offset 0"),
                         Error);
  }
  {
    std::vector<std::vector<TestShard>> ranks{{{"w", MSW_DTYPE_F32, {8}, {0}, {4}, b}}};
    CHECK_THROWS_WITH_AS(p.save(fresh_dir("zarr_incomplete"), "{}", ranks),
                         doctest::Contains("no rank wrote the shard at offset (4,)"), Error);
  }
  {
    std::vector<std::vector<TestShard>> ranks{{{"a/b", MSW_DTYPE_F32, {8}, {0}, {8}, b}}};
    CHECK_THROWS_WITH_AS(p.save(fresh_dir("zarr_slash"), "{}", ranks), doctest::Contains("contains '/'"), Error);
  }
  {
    std::vector<char> one(8);
    std::vector<std::vector<TestShard>> ranks{{{"f8", MSW_DTYPE_F8_E4M3, {8}, {0}, {8}, one}}};
    CHECK_THROWS_WITH_AS(p.save(fresh_dir("zarr_fp8"), "{}", ranks), doctest::Contains("cannot store"), Error);
  }
  {
    std::vector<std::vector<TestShard>> ranks{{{"w", MSW_DTYPE_F32, {8}, {0}, {8}, b}}};
    CHECK_THROWS_WITH_AS(p.save(fresh_dir("zarr_bad_common"), "{not json", ranks), doctest::Contains("not valid JSON"),
                         Error);
  }
}

TEST_CASE("zarr skips shards whose replica_id is not 0") {
  Plugin p("zarr");
  std::vector<char> a = global_bytes(MSW_DTYPE_F32, {4}, 3), junk(16, 0x55);
  std::vector<std::vector<TestShard>> ranks{{{"w", MSW_DTYPE_F32, {4}, {0}, {4}, a}},
                                            {{"w", MSW_DTYPE_F32, {4}, {0}, {4}, junk, 1}}};
  const fs::path dir = fresh_dir("zarr_replica");
  p.save(dir, "{}", ranks);
  Reader r(p, dir);
  CHECK(r.read("w", MSW_DTYPE_F32, {0}, {4}) == a);
}

TEST_CASE("zarr stores a 0-d tensor as zarr-python does (chunk file \"0\") and a strided shard densely") {
  Plugin p("zarr");
  const fs::path dir = fresh_dir("zarr_scalar_strided");
  std::vector<char> scalar = global_bytes(MSW_DTYPE_I64, {}, 4);
  // The strided shard: columns 0..1 of a (3, 4) f32 buffer, written through a non-contiguous view.
  const std::vector<char> full = global_bytes(MSW_DTYPE_F32, {3, 4}, 5);
  const std::string dir_text = dir.string();  // save_args keeps its c_str()
  const std::string common = "{}";
  msw_save_args a = p.save_args(dir_text, common, 0, 1);
  void* writer = nullptr;
  check(p.vt().begin_save(p.self(), &a, &writer));
  msw_shard recs[2]{};
  recs[0].struct_size = sizeof(msw_shard);
  recs[0].key = "step";
  recs[0].data = view(scalar.data(), MSW_DTYPE_I64, {});
  recs[1].struct_size = sizeof(msw_shard);
  recs[1].ndim = 2;
  recs[1].key = "cols";
  recs[1].global_shape[0] = 3;
  recs[1].global_shape[1] = 2;
  recs[1].data = view(const_cast<char*>(full.data()), MSW_DTYPE_F32, {3, 2});
  recs[1].data.strides[0] = 4;  // rows of the (3, 4) buffer
  check(p.vt().write_shards(writer, recs, 2, sizeof(msw_shard)));
  check(p.vt().finish_save(writer));
  p.commit(dir.string(), "{}", 0, 1);
  CHECK(fs::file_size(dir / "step" / "0") == 8);
  Reader r(p, dir);
  CHECK(r.read("step", MSW_DTYPE_I64, {}, {}) == scalar);
  CHECK(r.read("cols", MSW_DTYPE_F32, {0, 0}, {3, 2}) == slice(full, MSW_DTYPE_F32, {3, 4}, {0, 0}, {3, 2}));
}
