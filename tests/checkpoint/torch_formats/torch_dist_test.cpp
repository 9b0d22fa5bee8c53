// torch_dist: a synthetic checkpoint written by two ranks (no communicator; the coordinator merges their
// sidecars), read back region by region; malformed checkpoints; probe.
#include "dcp_metadata.hpp"
#include "io.hpp"
#include "test_support.hpp"
#include "torch_dist.hpp"

#include <doctest/doctest.h>

#include <deque>
#include <map>

using namespace tft;
using megaswift::sdk::SaveArgs;
using megaswift::sdk::OpenArgs;
using megaswift::sdk::Shard;
using torchfmt::Error;
using torchfmt::TorchDistFormat;

namespace {

struct Model {
  std::map<std::string, Tensor> globals;
  std::deque<Tensor> parts;  // the shards' data; a deque keeps them in place when the Model moves
  std::vector<Shard> rank[2];
};

// Several dtypes; a stacked key with per-layer shards split 2-way along dim 1; a weight split 2-way along
// dim 0 and another along its last dim; a replicated norm (rank 1's copy is a replica); an I64 on rank 1.
Model make_model() {
  Model m;
  auto& g = m.globals;
  g["embedding.word_embeddings.weight"] = Tensor(MSW_DTYPE_F32, {8, 6}, 1);
  g["decoder.layers.self_attention.linear_qkv.weight"] = Tensor(MSW_DTYPE_BF16, {2, 6, 4}, 2);
  g["decoder.layers.mlp.linear_fc2.weight"] = Tensor(MSW_DTYPE_F32, {2, 4, 6}, 3);
  g["decoder.final_layernorm.weight"] = Tensor(MSW_DTYPE_F16, {5}, 4);
  g["optimizer.state.step"] = Tensor(MSW_DTYPE_I64, {3}, 5);
  auto add = [&](int r, const std::string& key, std::vector<int64_t> off, std::vector<int64_t> size, int rep = 0) {
    m.parts.push_back(g[key].slice(off, size));
    m.rank[r].push_back(shard(key, g[key], m.parts.back(), off, rep));
  };
  for (int r = 0; r < 2; ++r) {
    add(r, "embedding.word_embeddings.weight", {4 * r, 0}, {4, 6});
    for (int64_t layer = 0; layer < 2; ++layer) {
      add(r, "decoder.layers.self_attention.linear_qkv.weight", {layer, 3 * r, 0}, {1, 3, 4});
      add(r, "decoder.layers.mlp.linear_fc2.weight", {layer, 0, 3 * r}, {1, 4, 3});
    }
    add(r, "decoder.final_layernorm.weight", {0}, {5}, r);
  }
  add(1, "optimizer.state.step", {0}, {3});
  return m;
}

const char* kCommon = R"({"iteration": 7, "checkpoint_version": 3.0, "args": {"num_layers": 2, "lr": 0.001,
  "tensor_model_parallel_size": 2, "model_type": "qwen2"}, "opt_param_scheduler": {"num_steps": 7},
  "rng_state": [{"seed": 1234}], "data_state": null})";

SaveArgs save_args(const fs::path& dir, int rank) {
  SaveArgs a;
  a.dir = dir.string();
  a.common_state_json = kCommon;
  a.rank = rank;
  a.world_size = 2;
  a.coordinator_rank = 0;
  return a;
}

void save(const fs::path& dir, const Model& m) {
  TorchDistFormat fmt("{}");
  for (int r = 0; r < 2; ++r) {
    auto w = fmt.begin_save(save_args(dir, r));
    w->write(m.rank[r]);
    w->finish();
  }
  fmt.commit_save(save_args(dir, 1));  // not the coordinator: nothing to do
  fmt.commit_save(save_args(dir, 0));
}

std::unique_ptr<megaswift::sdk::CheckpointReader> open(const fs::path& dir) {
  OpenArgs a;
  a.dir = dir.string();
  return TorchDistFormat("{}").open(a);
}

std::string error_of_open(const fs::path& dir) {
  try {
    open(dir);
  } catch (const Error& e) {
    return e.what();
  }
  return "";
}

fs::path saved(const std::string& name) {
  const fs::path dir = fresh_dir(name);
  save(dir, make_model());
  return dir;
}

}  // namespace

TEST_CASE("torch_dist: two ranks write, the coordinator commits, and every region reads back bit-exactly") {
  const Model m = make_model();
  const fs::path dir = fresh_dir("roundtrip");
  save(dir, m);
  CHECK(fs::exists(dir / ".metadata"));
  CHECK(fs::exists(dir / "__0_0.distcp"));
  CHECK(fs::exists(dir / "__1_0.distcp"));
  CHECK(fs::exists(dir / "common.pt"));
  CHECK(!fs::exists(dir / ".rank0.meta"));
  CHECK(!fs::exists(dir / ".rank1.meta"));
  CHECK(torchfmt::read_small_file((dir / "metadata.json").string(), 4096) ==
        R"({"sharded_backend": "torch_dist", "sharded_backend_version": 1, "common_backend": "torch", "common_backend_version": 1})");

  auto r = open(dir);
  CHECK(Json::parse(r->common_state_json()) == Json::parse(kCommon));
  REQUIRE(r->tensor_count() == m.globals.size());
  for (size_t i = 0; i < r->tensor_count(); ++i) {
    const auto info = r->tensor_info(i);
    REQUIRE(m.globals.count(info.key));
    const Tensor& g = m.globals.at(info.key);
    CHECK(info.dtype == g.dtype);
    CHECK(info.global_shape == g.shape);
    const Tensor whole = read(*r, info.key, g.dtype, std::vector<int64_t>(g.shape.size(), 0), g.shape);
    CHECK_MESSAGE(whole.bytes == g.bytes, info.key);
  }
  // Sub-regions that straddle chunks (layers and the 2-way splits).
  const Tensor& qkv = m.globals.at("decoder.layers.self_attention.linear_qkv.weight");
  CHECK(read(*r, "decoder.layers.self_attention.linear_qkv.weight", MSW_DTYPE_BF16, {0, 2, 1}, {2, 3, 2}).bytes ==
        qkv.slice({0, 2, 1}, {2, 3, 2}).bytes);
  const Tensor& fc2 = m.globals.at("decoder.layers.mlp.linear_fc2.weight");
  CHECK(read(*r, "decoder.layers.mlp.linear_fc2.weight", MSW_DTYPE_F32, {1, 1, 2}, {1, 3, 3}).bytes ==
        fc2.slice({1, 1, 2}, {1, 3, 3}).bytes);
  const Tensor& emb = m.globals.at("embedding.word_embeddings.weight");
  CHECK(read(*r, "embedding.word_embeddings.weight", MSW_DTYPE_F32, {3, 0}, {2, 6}).bytes == emb.slice({3, 0}, {2, 6}).bytes);
  // Conversion BF16 -> F32 is exact.
  const Tensor as_f32 = read(*r, "decoder.layers.self_attention.linear_qkv.weight", MSW_DTYPE_F32, {0, 0, 0}, {2, 6, 4});
  for (size_t i = 0; i < qkv.bytes.size() / 2; ++i) {
    uint16_t h;
    float f;
    std::memcpy(&h, &qkv.bytes[2 * i], 2);
    std::memcpy(&f, &as_f32.bytes[4 * i], 4);
    REQUIRE(f == torchfmt::bf16_to_f32(h));
  }
  CHECK_THROWS_WITH_AS(read(*r, "optimizer.state.step", MSW_DTYPE_F32, {0}, {3}), doctest::Contains("cannot convert"), Error);
  CHECK_THROWS_WITH_AS(read(*r, "embedding.word_embeddings.weight", MSW_DTYPE_F32, {6, 0}, {4, 6}),
                       doctest::Contains("exceeds the global size"), Error);
  CHECK_THROWS_AS(read(*r, "nope", MSW_DTYPE_F32, {0}, {1}), Error);
}

TEST_CASE("torch_dist: the .metadata pickle is the protocol-2 shape DCP loads") {
  const fs::path dir = saved("pickle_shape");
  const std::string meta = torchfmt::read_small_file((dir / ".metadata").string(), 1 << 20);
  CHECK(meta.substr(0, 2) == std::string("\x80\x02", 2));
  CHECK(meta.find("ctorch.distributed.checkpoint.metadata\nMetadata\n") != std::string::npos);
  CHECK(meta.find("ctorch.serialization\n_get_layout\n") != std::string::npos);
  CHECK(meta.find("ctorch.distributed.checkpoint.filesystem\n_StorageInfo\n") != std::string::npos);
  const auto m = torchfmt::parse_dcp_metadata(reinterpret_cast<const uint8_t*>(meta.data()), meta.size(), "meta");
  CHECK(m.tensors.size() == 5);
  CHECK(m.bytes.empty());
  for (const auto& t : m.tensors)
    if (t.key == "decoder.layers.self_attention.linear_qkv.weight") CHECK(t.chunks.size() == 4);
}

TEST_CASE("torch_dist: commit fails clearly when a rank did not finish, or shards leave holes or overlap") {
  TorchDistFormat fmt("{}");
  const Model m = make_model();
  const fs::path dir = fresh_dir("unfinished");
  auto w = fmt.begin_save(save_args(dir, 0));
  w->write(m.rank[0]);
  w->finish();
  CHECK_THROWS_WITH_AS(fmt.commit_save(save_args(dir, 0)), doctest::Contains(".rank1.meta is missing"), Error);

  auto w1 = fmt.begin_save(save_args(dir, 1));  // rank 1 writes only its I64: holes in the others
  w1->write({m.rank[1].back()});
  w1->finish();
  CHECK_THROWS_WITH_AS(fmt.commit_save(save_args(dir, 0)), doctest::Contains("is covered by"), Error);

  const fs::path dup = fresh_dir("overlap");
  for (int r = 0; r < 2; ++r) {
    auto wr = fmt.begin_save(save_args(dup, r));
    wr->write(m.rank[0]);  // both ranks claim rank 0's pieces
    wr->finish();
  }
  CHECK_THROWS_WITH_AS(fmt.commit_save(save_args(dup, 0)), doctest::Contains("overlapping chunks"), Error);

  write_text(dup / ".rank1.meta", "{\"chunks\": [{\"key\": 3}]}");
  CHECK_THROWS_WITH_AS(fmt.commit_save(save_args(dup, 0)), doctest::Contains("malformed chunk record"), Error);
  SaveArgs bad = save_args(dup, 0);
  bad.common_state_json = "{not json";
  const fs::path ok_dir = saved("bad_common");
  bad.dir = ok_dir.string();
  for (int r = 0; r < 2; ++r) {
    auto wr = fmt.begin_save(save_args(ok_dir, r));
    wr->write(m.rank[r]);
    wr->finish();
  }
  CHECK_THROWS_WITH_AS(fmt.commit_save(bad), doctest::Contains("not valid JSON"), Error);
}

TEST_CASE("torch_dist: one rank, no communicator, probe scores") {
  TorchDistFormat fmt("{}");
  const fs::path dir = fresh_dir("single");
  Tensor t(MSW_DTYPE_BF16, {3, 5}, 9);
  SaveArgs a;
  a.dir = dir.string();
  a.common_state_json = R"({"iteration": 1})";
  auto w = fmt.begin_save(a);
  w->write({shard("w", t, t, {0, 0})});
  w->finish();
  fmt.commit_save(a);
  CHECK(fmt.probe(dir.string()) == 100);
  CHECK(read(*open(dir), "w", MSW_DTYPE_BF16, {0, 0}, {3, 5}).bytes == t.bytes);
  fs::remove(dir / "metadata.json");
  CHECK(fmt.probe(dir.string()) == 60);
  write_text(dir / "metadata.json", R"({"sharded_backend": "zarr", "sharded_backend_version": 1})");
  CHECK(fmt.probe(dir.string()) == 0);
  CHECK(fmt.probe(fresh_dir("empty").string()) == 0);
}

TEST_CASE("torch_dist: malformed checkpoints are clear errors") {
  SUBCASE("a truncated .distcp") {
    const fs::path dir = saved("truncated");
    fs::resize_file(dir / "__1_0.distcp", fs::file_size(dir / "__1_0.distcp") - 100);
    const std::string e = error_of_open(dir);
    CHECK(e.find("__1_0.distcp") != std::string::npos);
    CHECK(e.find("truncated") != std::string::npos);
  }
  SUBCASE("a missing .distcp") {
    const fs::path dir = saved("missing");
    fs::remove(dir / "__0_0.distcp");
    CHECK(error_of_open(dir).find("__0_0.distcp") != std::string::npos);
  }
  SUBCASE(".metadata referencing an unknown class") {
    const fs::path dir = saved("unknown_class");
    std::string meta = torchfmt::read_small_file((dir / ".metadata").string(), 1 << 20);
    const size_t p = meta.find("\nChunkStorageMetadata\n");
    REQUIRE(p != std::string::npos);
    meta.replace(p + 1, 5, "Evil_");
    write_text(dir / ".metadata", meta);
    const std::string e = error_of_open(dir);
    CHECK(e.find("'torch.distributed.checkpoint.metadata.Evil_StorageMetadata'") != std::string::npos);
    CHECK(e.find("allow-list") != std::string::npos);
  }
  SUBCASE("item offsets out of range") {
    const fs::path dir = saved("offsets");
    torchfmt::DcpMetadata m;
    m.tensors.push_back({"w", MSW_DTYPE_F32, {2}, {{{0}, {2}, {"__0_0.distcp", 1u << 30, 100}}}});
    write_text(dir / ".metadata", torchfmt::write_dcp_metadata(m));
    CHECK(error_of_open(dir).find("lies outside __0_0.distcp") != std::string::npos);
  }
  SUBCASE("a relative path that leaves the directory") {
    const fs::path dir = saved("escape");
    torchfmt::DcpMetadata m;
    m.tensors.push_back({"w", MSW_DTYPE_F32, {2}, {{{0}, {2}, {"../__0_0.distcp", 0, 100}}}});
    write_text(dir / ".metadata", torchfmt::write_dcp_metadata(m));
    CHECK(error_of_open(dir).find("leaves the checkpoint directory") != std::string::npos);
  }
  SUBCASE("a chunk outside its tensor, and a chunk missing from storage_data") {
    const fs::path dir = saved("chunk_bounds");
    torchfmt::DcpMetadata m;
    m.tensors.push_back({"w", MSW_DTYPE_F32, {2}, {{{1}, {2}, {"__0_0.distcp", 0, 100}}}});
    write_text(dir / ".metadata", torchfmt::write_dcp_metadata(m));
    CHECK(error_of_open(dir).find("lies outside the tensor") != std::string::npos);
  }
  SUBCASE("an item whose zip central directory is damaged") {
    const fs::path dir = saved("bad_cd");
    std::string data = torchfmt::read_small_file((dir / "__0_0.distcp").string(), 1 << 24);
    const size_t cd = data.find(std::string("PK\x01\x02", 4));
    REQUIRE(cd != std::string::npos);
    data[cd + 3] = 0x7f;
    write_text(dir / "__0_0.distcp", data);
    auto r = open(dir);
    const Model model = make_model();
    const Tensor& g = model.globals.at("embedding.word_embeddings.weight");
    CHECK_THROWS_WITH_AS(read(*r, "embedding.word_embeddings.weight", MSW_DTYPE_F32, {0, 0}, g.shape),
                         doctest::Contains("bad signature"), Error);
  }
  SUBCASE("an item holding a tensor of another shape than .metadata says") {
    const fs::path dir = saved("wrong_shape");
    std::string meta = torchfmt::read_small_file((dir / ".metadata").string(), 1 << 20);
    auto m = torchfmt::parse_dcp_metadata(reinterpret_cast<const uint8_t*>(meta.data()), meta.size(), "m");
    for (auto& t : m.tensors)
      if (t.key == "embedding.word_embeddings.weight") t.chunks[1].item = m.tensors[1].chunks[0].item;
    write_text(dir / ".metadata", torchfmt::write_dcp_metadata(m));
    auto r = open(dir);
    CHECK_THROWS_WITH_AS(read(*r, "embedding.word_embeddings.weight", MSW_DTYPE_F32, {0, 0}, {8, 6}),
                         doctest::Contains("another shape or dtype"), Error);
  }
}

TEST_CASE("torch_dist: a checkpoint and expected JSON for check_dcp.py (PyTorch DCP, torch >= 2.2)") {
  // MSW_DCP_CHECK_OUT keeps the checkpoint for a run of check_dcp.py on a machine with torch 2.x.
  const char* keep = std::getenv("MSW_DCP_CHECK_OUT");
  fs::path dir = keep ? fs::path(keep) : fresh_dir("for_check_dcp");
  fs::remove_all(dir);
  fs::create_directories(dir);
  const Model m = make_model();
  save(dir, m);
  Json tensors = Json::object();
  static const std::map<int32_t, std::string> names = {{MSW_DTYPE_F32, "float32"}, {MSW_DTYPE_BF16, "bfloat16"},
                                                       {MSW_DTYPE_F16, "float16"}, {MSW_DTYPE_I64, "int64"}};
  char hex[17];
  for (const auto& [key, g] : m.globals) {
    std::snprintf(hex, sizeof hex, "%016llx", static_cast<unsigned long long>(fnv1a(g.bytes)));
    tensors[key] = Json{{"dtype", names.at(g.dtype)}, {"shape", g.shape}, {"fnv1a64", hex}};
  }
  write_text(dir / "expected_dcp.json", Json{{"tensors", tensors}, {"common", Json::parse(kCommon)}}.dump(1));
  CHECK(fs::exists(dir / ".metadata"));
  const std::string py_check = "python3 -c 'import torch, sys; sys.exit(0 if int(torch.__version__.split(\".\")[0]) >= 2 else 1)' >/dev/null 2>&1";
  if (std::system(py_check.c_str()) != 0) {
    MESSAGE("check_dcp.py not run: needs torch >= 2 (the lead runs it on the GPU machine: "
            "MSW_DCP_CHECK_OUT=<dir> this test, then python3 tests/fixtures/checkpoints/check_dcp.py <dir>)");
    return;
  }
  const fs::path script = megaswift::testing::source_dir() / "tests" / "fixtures" / "checkpoints" / "check_dcp.py";
  CHECK(std::system(("python3 " + script.string() + " " + dir.string()).c_str()) == 0);
}
