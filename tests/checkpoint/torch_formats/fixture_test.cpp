// torch_dist on a checkpoint Megatron-Core itself saved (the shared fixture mc-qwen2-tiny, torch 2.11,
// protocol-4 .metadata, MCore keys, common state inside DCP as core >= 0.19 stores it).
#include "dcp_metadata.hpp"
#include "io.hpp"
#include "test_support.hpp"
#include "torch_dist.hpp"
#include "torch_save.hpp"

#include <doctest/doctest.h>

#include <map>

using namespace tft;

namespace {

// The fixture beside the source tree as CI has it (../shared), or inside it (shared/); empty when absent.
fs::path fixture_archive() {
  for (const fs::path& base : {megaswift::testing::source_dir() / ".." / "shared",
                               megaswift::testing::source_dir() / "shared"}) {
    const fs::path p = base / "fixtures" / "megatron-core" / "mc-qwen2-tiny.tgz";
    if (fs::exists(p)) return p;
  }
  return {};
}

fs::path extracted() {
  static fs::path dir = [] {
    const fs::path tgz = fixture_archive();
    if (tgz.empty()) return fs::path();
    const fs::path d = fresh_dir("mcore_fixture");
    const std::string cmd = "tar xzf '" + tgz.string() + "' -C '" + d.string() + "'";
    if (std::system(cmd.c_str()) != 0) return fs::path();
    return d / "mc-qwen2-tiny" / "iter_0000007";
  }();
  return dir;
}

}  // namespace

TEST_CASE("torch_dist reads the checkpoint Megatron-Core saved: keys, shapes, dtypes, common state, regions") {
  const fs::path dir = extracted();
  if (dir.empty()) {
    MESSAGE("skipped: ../shared/fixtures/megatron-core/mc-qwen2-tiny.tgz is absent (or tar failed)");
    return;
  }
  torchfmt::TorchDistFormat fmt("{}");
  CHECK(fmt.probe(dir.string()) == 100);
  megaswift::sdk::OpenArgs a;
  a.dir = dir.string();
  auto r = fmt.open(a);

  std::map<std::string, megaswift::sdk::TensorInfo> infos;
  for (size_t i = 0; i < r->tensor_count(); ++i) {
    auto info = r->tensor_info(i);
    std::string shape;
    for (int64_t s : info.global_shape) shape += std::to_string(s) + " ";
    MESSAGE(info.key << " (" << shape << ") " << std::string(megaswift::sdk::dtype_name(info.dtype)));
    infos[info.key] = info;
  }
  // README facts: 2 layers, hidden 32, 4 heads over 2 groups (head dim 8), ffn 88, vocab 151936, tied, bf16.
  const std::map<std::string, std::vector<int64_t>> expected = {
      {"embedding.word_embeddings.weight", {151936, 32}},
      {"decoder.layers.self_attention.linear_qkv.weight", {2, (4 + 2 * 2) * 8, 32}},
      {"decoder.layers.self_attention.linear_qkv.bias", {2, (4 + 2 * 2) * 8}},
      {"decoder.layers.self_attention.linear_qkv.layer_norm_weight", {2, 32}},
      {"decoder.layers.self_attention.linear_proj.weight", {2, 32, 32}},
      {"decoder.layers.mlp.linear_fc1.weight", {2, 2 * 88, 32}},
      {"decoder.layers.mlp.linear_fc1.layer_norm_weight", {2, 32}},
      {"decoder.layers.mlp.linear_fc2.weight", {2, 32, 88}},
      {"decoder.final_layernorm.weight", {32}},
  };
  CHECK(infos.size() == expected.size());
  CHECK(infos.count("output_layer.weight") == 0);  // tied embeddings
  for (const auto& [key, shape] : expected) {
    REQUIRE_MESSAGE(infos.count(key), key);
    CHECK_MESSAGE(infos[key].global_shape == shape, key);
    CHECK_MESSAGE(infos[key].dtype == MSW_DTYPE_BF16, key);
  }
  const Json common = Json::parse(r->common_state_json());
  CHECK(common["iteration"] == 7);
  CHECK(common["checkpoint_version"].get<double>() == 3.0);

  // Independent path: the .metadata offsets -> the item's zip -> data/0 bytes, against read_region.
  const std::string meta_path = (dir / ".metadata").string();
  torchfmt::MappedFile meta(meta_path);
  const auto m = torchfmt::parse_dcp_metadata(meta.data(), meta.size(), meta_path);
  torchfmt::MappedFile data((dir / "__0_0.distcp").string());
  size_t checked = 0;
  for (const auto& t : m.tensors) {
    for (const auto& c : t.chunks) {
      REQUIRE(c.item.file == "__0_0.distcp");
      torchfmt::ZipReader z(data.data() + c.item.offset, c.item.length, "item");
      const torchfmt::ZipRecord* rec = z.find("archive/data/0");
      REQUIRE(rec);
      z.verify_crc(*rec);
      const Tensor got = read(*r, t.key, t.dtype, c.offsets, c.sizes);
      REQUIRE(got.bytes.size() == rec->size);
      CHECK_MESSAGE(std::memcmp(got.bytes.data(), z.data(*rec).data(), rec->size) == 0, t.key);
      ++checked;
    }
  }
  // embedding, 7 stacked keys x 2 layers, final norm; linear_fc1 is stored as gate and up halves per layer
  // (Megatron's SwiGLU sharded factory), so it has 4 chunks.
  CHECK(checked == 1 + 6 * 2 + 2 * 2 + 1);

  // A region across both layer chunks equals the two per-layer reads.
  const std::string qkv = "decoder.layers.self_attention.linear_qkv.weight";
  const Tensor whole = read(*r, qkv, MSW_DTYPE_BF16, {0, 0, 0}, {2, 64, 32});
  const Tensor across = read(*r, qkv, MSW_DTYPE_BF16, {0, 60, 3}, {2, 4, 29});
  CHECK(across.bytes == whole.slice({0, 60, 3}, {2, 4, 29}).bytes);
  const std::string fc1 = "decoder.layers.mlp.linear_fc1.weight";  // gate/up halves meet at row 88
  const Tensor fc1_whole = read(*r, fc1, MSW_DTYPE_BF16, {0, 0, 0}, {2, 176, 32});
  CHECK(read(*r, fc1, MSW_DTYPE_BF16, {1, 80, 0}, {1, 16, 32}).bytes == fc1_whole.slice({1, 80, 0}, {1, 16, 32}).bytes);
  // Weights of a trained-from-init model are finite and not all zero.
  const Tensor f32 = read(*r, qkv, MSW_DTYPE_F32, {0, 0, 0}, {2, 64, 32});
  size_t nonzero = 0;
  for (size_t i = 0; i < f32.bytes.size(); i += 4) {
    float v;
    std::memcpy(&v, &f32.bytes[i], 4);
    REQUIRE(std::isfinite(v));
    nonzero += v != 0.0f;
  }
  CHECK(nonzero > 1000);
  // The last rows of the embedding (padded vocabulary region included) read too.
  CHECK(read(*r, "embedding.word_embeddings.weight", MSW_DTYPE_BF16, {151930, 0}, {6, 32}).bytes.size() == 6 * 32 * 2);
}

// A checkpoint PyTorch 2.11's own torch.distributed.checkpoint.save wrote (tests/fixtures/checkpoints/dcp_torch,
// made by make_dcp_fixture.py), against expected.safetensors beside it: every tensor's bytes, read through the
// region API in its stored dtype, equal the expected file's; the byte items are listed as non-tensors.
TEST_CASE("torch_dist reads what torch.distributed.checkpoint wrote: every tensor bit for bit") {
  const fs::path root = megaswift::testing::source_dir() / "tests" / "fixtures" / "checkpoints" / "dcp_torch";
  const auto expected = read_all(root / "expected.safetensors");
  REQUIRE(expected.size() > 8);
  uint64_t header_size = 0;
  std::memcpy(&header_size, expected.data(), 8);
  REQUIRE(8 + header_size <= expected.size());
  const Json header = Json::parse(std::string(expected.begin() + 8, expected.begin() + 8 + static_cast<long>(header_size)));
  const size_t base = 8 + header_size;

  torchfmt::TorchDistFormat fmt("{}");
  megaswift::sdk::OpenArgs a;
  a.dir = (root / "dcp").string();
  auto r = fmt.open(a);
  std::map<std::string, megaswift::sdk::TensorInfo> infos;
  for (size_t i = 0; i < r->tensor_count(); ++i) infos[r->tensor_info(i).key] = r->tensor_info(i);
  CHECK(infos.size() == header.size());
  const std::map<std::string, int32_t> dtypes = {
      {"F32", MSW_DTYPE_F32}, {"BF16", MSW_DTYPE_BF16}, {"F16", MSW_DTYPE_F16}, {"I64", MSW_DTYPE_I64}};
  for (const auto& [key, h] : header.items()) {
    CAPTURE(key);
    REQUIRE(infos.count(key) == 1);
    const auto& info = infos[key];
    CHECK(info.dtype == dtypes.at(h["dtype"].get<std::string>()));
    CHECK(info.global_shape == h["shape"].get<std::vector<int64_t>>());
    const Tensor got = read(*r, key, info.dtype, std::vector<int64_t>(info.global_shape.size(), 0), info.global_shape);
    const size_t begin = base + h["data_offsets"][0].get<size_t>(), end = base + h["data_offsets"][1].get<size_t>();
    REQUIRE(end <= expected.size());
    CHECK(std::vector<uint8_t>(expected.begin() + static_cast<long>(begin), expected.begin() + static_cast<long>(end)) ==
          got.bytes);
  }
}
