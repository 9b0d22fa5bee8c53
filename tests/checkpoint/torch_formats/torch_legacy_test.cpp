// torch (legacy mp_rank_00/model_optim_rng.pt): our round trip, torch.load (Debian's torch 1.13) reading
// what we write, and our reader on what torch 1.13's torch.save wrote.
#include "io.hpp"
#include "test_support.hpp"
#include "torch_legacy.hpp"

#include "run_command.hpp"

#include <doctest/doctest.h>

#include <map>

using namespace tft;
using megaswift::sdk::OpenArgs;
using megaswift::sdk::SaveArgs;
using torchfmt::Error;
using torchfmt::TorchLegacyFormat;

namespace {

const char* kCommon = R"({"iteration": 12, "checkpoint_version": 3.0, "args": {"num_layers": 2, "lr": 0.0003,
  "seq_length": null, "eval_iters": [1, 2], "tokenizer_type": "HuggingFaceTokenizer"},
  "opt_param_scheduler": {"num_steps": 12}, "rng_state": [{"random_rng_state": [3, 1]}],
  "num_floating_point_operations_so_far": 123456789012})";

struct Saved {
  std::map<std::string, Tensor> globals;
  fs::path dir;
};

// A stacked bf16 key written as per-layer shards, f32 / f16 / i64 tensors and an optimizer key.
Saved save(const std::string& name, const std::string& common) {
  Saved s;
  s.dir = fresh_dir(name);
  auto& g = s.globals;
  g["decoder.layers.self_attention.linear_qkv.weight"] = Tensor(MSW_DTYPE_BF16, {2, 6, 4}, 11);
  g["embedding.word_embeddings.weight"] = Tensor(MSW_DTYPE_F32, {8, 6}, 12);
  g["decoder.final_layernorm.weight"] = Tensor(MSW_DTYPE_F16, {5}, 13);
  g["position_ids"] = Tensor(MSW_DTYPE_I64, {3}, 14);
  g["optimizer.state.exp_avg.decoder.layers.mlp.linear_fc2.weight"] = Tensor(MSW_DTYPE_F32, {2, 3, 2}, 15);
  std::vector<Tensor> parts;
  parts.reserve(8);
  std::vector<megaswift::sdk::Shard> shards;
  for (int64_t i = 0; i < 2; ++i) {
    const std::string k = "decoder.layers.self_attention.linear_qkv.weight";
    parts.push_back(g[k].slice({i, 0, 0}, {1, 6, 4}));
    shards.push_back(shard(k, g[k], parts.back(), {i, 0, 0}));
  }
  for (const char* k : {"embedding.word_embeddings.weight", "decoder.final_layernorm.weight", "position_ids",
                        "optimizer.state.exp_avg.decoder.layers.mlp.linear_fc2.weight"})
    shards.push_back(shard(k, g[k], g[k], std::vector<int64_t>(g[k].shape.size(), 0)));
  SaveArgs a;
  a.dir = s.dir.string();
  a.common_state_json = common;
  TorchLegacyFormat fmt("{}");
  auto w = fmt.begin_save(a);
  w->write(shards);
  w->finish();
  fmt.commit_save(a);
  return s;
}

// The per-layer legacy view of the saved tensors (what torch.load shows).
Json expected_legacy(const Saved& s, const Json& common) {
  Json t = Json::object();
  auto entry = [](const Tensor& x) {
    static const std::map<int32_t, std::string> names = {{MSW_DTYPE_F32, "float32"}, {MSW_DTYPE_BF16, "bfloat16"},
                                                         {MSW_DTYPE_F16, "float16"}, {MSW_DTYPE_I64, "int64"}};
    return Json{{"dtype", names.at(x.dtype)}, {"shape", x.shape}, {"bits", bits_of(x)}};
  };
  for (const auto& [key, x] : s.globals) {
    const size_t split = torchfmt::stacked_layer_split(key);
    if (split == std::string::npos) {
      t[key] = entry(x);
      continue;
    }
    for (int64_t i = 0; i < x.shape[0]; ++i) {
      std::vector<int64_t> off(x.shape.size(), 0), size = x.shape;
      off[0] = i;
      size[0] = 1;
      Tensor layer = x.slice(off, size);
      layer.shape.erase(layer.shape.begin());
      t[key.substr(0, split) + std::to_string(i) + "." + key.substr(split)] = entry(layer);
    }
  }
  return Json{{"common", common}, {"tensors", t}};
}

fs::path script(const char* name) { return megaswift::testing::source_dir() / "tests" / "fixtures" / "checkpoints" / name; }

std::unique_ptr<megaswift::sdk::CheckpointReader> open(const fs::path& dir) {
  OpenArgs a;
  a.dir = dir.string();
  return TorchLegacyFormat("{}").open(a);
}

}  // namespace

TEST_CASE("torch format: per-layer keys, dtypes and the common state round-trip bit-exactly") {
  const Saved s = save("legacy_roundtrip", kCommon);
  TorchLegacyFormat fmt("{}");
  CHECK(fmt.probe(s.dir.string()) == 100);
  CHECK(fmt.probe(fresh_dir("legacy_empty").string()) == 0);
  auto r = open(s.dir);
  CHECK(Json::parse(r->common_state_json()) == Json::parse(kCommon));
  REQUIRE(r->tensor_count() == s.globals.size());
  for (size_t i = 0; i < r->tensor_count(); ++i) {
    const auto info = r->tensor_info(i);
    REQUIRE_MESSAGE(s.globals.count(info.key), info.key);
    const Tensor& g = s.globals.at(info.key);
    CHECK(info.global_shape == g.shape);
    CHECK(info.dtype == g.dtype);
    CHECK_MESSAGE(read(*r, info.key, g.dtype, std::vector<int64_t>(g.shape.size(), 0), g.shape).bytes == g.bytes, info.key);
  }
  const Tensor& qkv = s.globals.at("decoder.layers.self_attention.linear_qkv.weight");
  CHECK(read(*r, "decoder.layers.self_attention.linear_qkv.weight", MSW_DTYPE_BF16, {0, 4, 1}, {2, 2, 3}).bytes ==
        qkv.slice({0, 4, 1}, {2, 2, 3}).bytes);
}

TEST_CASE("torch format: refuses partial shards, several ranks and reserved common members") {
  const fs::path dir = fresh_dir("legacy_refuse");
  SaveArgs a;
  a.dir = dir.string();
  a.common_state_json = "{}";
  TorchLegacyFormat fmt("{}");
  Tensor g(MSW_DTYPE_F32, {4, 2}, 1);
  Tensor half = g.slice({0, 0}, {2, 2});
  auto w = fmt.begin_save(a);
  CHECK_THROWS_WITH_AS(w->write({shard("w", g, half, {0, 0})}), doctest::Contains("stores whole tensors"), Error);
  a.world_size = 2;
  CHECK_THROWS_WITH_AS(fmt.begin_save(a), doctest::Contains("one rank"), Error);
  a.world_size = 1;
  a.common_state_json = R"({"model": 1})";
  CHECK_THROWS_WITH_AS(fmt.begin_save(a), doctest::Contains("'model'"), Error);
}

TEST_CASE("torch format: a truncated model_optim_rng.pt is a clear error") {
  const Saved s = save("legacy_truncated", kCommon);
  const fs::path f = s.dir / "mp_rank_00" / "model_optim_rng.pt";
  fs::resize_file(f, fs::file_size(f) / 2);
  try {
    open(s.dir);
    FAIL("open succeeded");
  } catch (const Error& e) {
    CHECK(std::string(e.what()).find("model_optim_rng.pt") != std::string::npos);
    CHECK(std::string(e.what()).find("end-of-central-directory") != std::string::npos);
  }
}

TEST_CASE("torch format: torch.load (python3-torch) reads what we write: keys, bits, args") {
  const std::string py = python_with_torch();
  if (py.empty()) {
    MESSAGE("skipped: no python3 with torch (install python3-torch; scripts/install-deps.sh lists it)");
    return;
  }
  const Saved s = save("legacy_torch_load", kCommon);
  const fs::path expected = s.dir / "expected.json";
  write_text(expected, expected_legacy(s, Json::parse(kCommon)).dump());
  if (const char* keep = std::getenv("MSW_TORCH_CHECK_OUT")) {  // for a run with torch 2.x elsewhere
    fs::remove_all(keep);
    fs::copy(s.dir, keep, fs::copy_options::recursive);
  }
  const auto full = megaswift::testing::run_command(py + " " + script("torch_legacy_check.py").string() + " " +
                                                    (s.dir / "mp_rank_00" / "model_optim_rng.pt").string() + " " +
                                                    expected.string());
  INFO(full.output);
  CHECK(full.status == 0);
  CHECK(full.output.find("ok decoder.layers.1.self_attention.linear_qkv.weight torch.bfloat16 [6, 4]") != std::string::npos);

  // Without args (no Namespace) and without floats (torch 1.13's weights-only unpickler lacks BINFLOAT,
  // "Unsupported operand 71"; torch 2.x accepts it) the content is within the weights-only unpickler.
  const char* plain = R"({"iteration": 5, "opt_param_scheduler": {"num_steps": 5, "names": ["a", null, true]}})";
  const Saved w = save("legacy_weights_only", plain);
  write_text(w.dir / "expected.json", expected_legacy(w, Json::parse(plain)).dump());
  const auto wo = megaswift::testing::run_command(py + " " + script("torch_legacy_check.py").string() + " " +
                                                  (w.dir / "mp_rank_00" / "model_optim_rng.pt").string() + " " +
                                                  (w.dir / "expected.json").string() + " --weights-only");
  INFO(wo.output);
  CHECK(wo.status == 0);
}

TEST_CASE("torch format: we read what torch.save (python3-torch) wrote: views, strides, restacked layers, args") {
  const std::string py = python_with_torch();
  if (py.empty()) {
    MESSAGE("skipped: no python3 with torch (install python3-torch; scripts/install-deps.sh lists it)");
    return;
  }
  const fs::path dir = fresh_dir("legacy_from_torch");
  const auto made = megaswift::testing::run_command(py + " " + script("torch_legacy_make.py").string() + " " +
                                                    dir.string() + " " + (dir / "expected.json").string());
  INFO(made.output);
  REQUIRE(made.status == 0);
  const Json expected = Json::parse(torchfmt::read_small_file((dir / "expected.json").string(), 1 << 24));
  MESSAGE("written by torch " << expected["torch_version"].get<std::string>());
  auto r = open(dir);
  Json common = Json::parse(r->common_state_json());
  if (common.contains("rng_numpy")) {  // ('MT19937', ndarray, pos, has_gauss, cached): the array as an object node
    CHECK(common["rng_numpy"][0] == "MT19937");
    CHECK(common["rng_numpy"][1]["__class__"].get<std::string>().find("_reconstruct") != std::string::npos);
    common.erase("rng_numpy");
  }
  CHECK(common == expected["common"]);
  static const std::map<std::string, int32_t> dtypes = {
      {"float32", MSW_DTYPE_F32}, {"bfloat16", MSW_DTYPE_BF16}, {"float16", MSW_DTYPE_F16}, {"int64", MSW_DTYPE_I64}};
  REQUIRE(r->tensor_count() == expected["tensors"].size());
  for (size_t i = 0; i < r->tensor_count(); ++i) {
    const auto info = r->tensor_info(i);
    REQUIRE_MESSAGE(expected["tensors"].contains(info.key), info.key);
    const Json& e = expected["tensors"][info.key];
    CHECK(info.dtype == dtypes.at(e["dtype"]));
    CHECK(info.global_shape == e["shape"].get<std::vector<int64_t>>());
    const Tensor got = read(*r, info.key, info.dtype, std::vector<int64_t>(info.global_shape.size(), 0), info.global_shape);
    CHECK_MESSAGE(bits_of(got) == e["bits"], info.key);
  }
}
