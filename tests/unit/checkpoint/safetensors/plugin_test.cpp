// The safetensors plugin through the host's registry and the C vtable: probe scores, a save (one rank and two)
// with max_shard_size from the component config, the reader entries and the buffer protocol, status codes.
#include "st_test_util.hpp"

#include "host/core/host_api.hpp"
#include "host/plugin_host/registry.hpp"

#include <megaswift/c/checkpoint.h>

#include <nlohmann/json.hpp>

using namespace st_test;
using megaswift::host::PluginRegistry;
using nlohmann::json;

namespace {

const PluginRegistry& registry() {
  static const PluginRegistry* r = [] {
    auto* reg = new PluginRegistry(megaswift::host::host_api());
    reg->load_library(fs::path(MSW_PLUGIN_BUILD_DIR) / "libmegaswift_checkpoint_safetensors.so");
    return reg;
  }();
  return *r;
}

const msw_checkpoint_vtable& vt() {
  static const msw_checkpoint_vtable v =
      PluginRegistry::vtable_copy<msw_checkpoint_vtable>(registry().require(MSW_KIND_CHECKPOINT, "safetensors"));
  return v;
}

struct Status {
  int32_t code;
  std::string message;
};

Status take(msw_status* s) {
  const msw_host_api& h = megaswift::host::host_api();
  Status r{h.status_code(s), h.status_message(s)};
  h.status_free(s);
  return r;
}

void ok(msw_status* s) {
  const Status st = take(s);
  INFO(st.message);
  REQUIRE(st.code == MSW_STATUS_OK);
}

struct Instance {
  void* self = nullptr;
  explicit Instance(const std::string& config) { ok(vt().create(config.c_str(), &self)); }
  ~Instance() { vt().destroy(self); }
};

// The args struct with the strings it points into (so they outlive the calls).
struct SaveArgs {
  std::string dir, common;
  msw_save_args a{};
  SaveArgs(std::string d, std::string c, int32_t rank, int32_t world) : dir(std::move(d)), common(std::move(c)) {
    a.struct_size = sizeof a;
    a.dir = dir.c_str();
    a.common_state_json = common.c_str();
    a.rank = rank;
    a.world_size = world;
  }
  SaveArgs(const SaveArgs&) = delete;
};

msw_shard shard(const char* key, std::vector<int64_t> global, std::vector<int64_t> offset, msw_tensor data) {
  msw_shard s{};
  s.struct_size = sizeof s;
  s.ndim = static_cast<int32_t>(global.size());
  s.key = key;
  for (size_t d = 0; d < global.size(); ++d) {
    s.global_shape[d] = global[d];
    s.global_offset[d] = offset[d];
  }
  s.data = data;
  return s;
}

struct Reader {
  void* r = nullptr;
  Reader(void* self, const std::string& dir) {
    msw_open_args a{};
    a.struct_size = sizeof a;
    a.dir = dir.c_str();
    a.world_size = 1;
    ok(vt().open(self, &a, &r));
  }
  ~Reader() { vt().reader_destroy(r); }
  std::string common() const {
    size_t needed = 0;
    ok(vt().read_common(r, nullptr, 0, &needed));  // the buffer protocol: size first
    std::string buf(needed, '\0');
    ok(vt().read_common(r, buf.data(), buf.size(), &needed));
    buf.resize(needed - 1);
    return buf;
  }
};

}  // namespace

TEST_CASE("probe: 100 for a directory we wrote, 50 for an HF model directory, 10 when malformed, 0 otherwise") {
  Instance inst("{}");
  const fs::path ours = scratch("probe-ours"), hf = scratch("probe-hf"), broken = scratch("probe-broken"),
                 none = scratch("probe-none");
  std::vector<float> v{1, 2};
  SaveArgs a(ours.string(), R"({"iteration":1})", 0, 1);
  void* w = nullptr;
  ok(vt().begin_save(inst.self, &a.a, &w));
  const msw_shard s = shard("w", {2}, {0}, view(v.data(), MSW_DTYPE_F32, {2}));
  ok(vt().write_shards(w, &s, 1, sizeof s));
  ok(vt().finish_save(w));
  ok(vt().commit_save(inst.self, &a.a));
  write_raw(hf / "model.safetensors", R"({"__metadata__":{"format":"pt"},"w":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}})",
            std::string(8, '\0'));
  write_raw(broken / "model.safetensors", "{oops", "");
  CHECK(vt().probe(inst.self, ours.c_str()) == 100);
  CHECK(vt().probe(inst.self, hf.c_str()) == 50);
  CHECK(vt().probe(inst.self, broken.c_str()) == 10);
  CHECK(vt().probe(inst.self, none.c_str()) == 0);
}

TEST_CASE("one rank saves through the vtable, sharded by the config's max_shard_size, and loads back") {
  Instance inst(R"({"args":{"max_shard_size":"1KB","lr":0.001}})");
  const fs::path dir = scratch("plugin-save");
  std::vector<float> big(200);  // 800 bytes: two such tensors do not fit one 1000-byte shard
  for (size_t i = 0; i < big.size(); ++i) big[i] = static_cast<float>(i) - 50.5f;
  std::vector<uint16_t> qkv = {0x3F80, 0x4000, 0x4040, 0x4080, 0x40A0, 0x40C0};  // bf16 1..6
  const std::string common = R"({"args":{"seq_length":16},"checkpoint_version":3.0,"iteration":12,"rng_state":null})";
  SaveArgs a(dir.string(), common, 0, 1);
  void* w = nullptr;
  ok(vt().begin_save(inst.self, &a.a, &w));
  std::vector<msw_shard> shards{
      shard("embedding.word_embeddings.weight", {20, 10}, {0, 0}, view(big.data(), MSW_DTYPE_F32, {20, 10})),
      shard("decoder.layers.self_attention.linear_qkv.weight", {2, 3}, {1, 0}, view(qkv.data() + 3, MSW_DTYPE_BF16, {1, 3})),
  };
  ok(vt().write_shards(w, shards.data(), shards.size(), sizeof(msw_shard)));
  std::vector<msw_shard> more{
      shard("decoder.layers.self_attention.linear_qkv.weight", {2, 3}, {0, 0}, view(qkv.data(), MSW_DTYPE_BF16, {1, 3})),
      shard("output_layer.weight", {200}, {0}, view(big.data(), MSW_DTYPE_F32, {200})),
  };
  more.push_back(more[1]);
  more[2].replica_id = 1;  // a replica: skipped, not an error
  ok(vt().write_shards(w, more.data(), more.size(), sizeof(msw_shard)));
  ok(vt().finish_save(w));
  ok(vt().commit_save(inst.self, &a.a));
  CHECK(fs::exists(dir / "model.safetensors.index.json"));
  CHECK(fs::exists(dir / "model-00002-of-00002.safetensors"));

  Reader r(inst.self, dir.string());
  CHECK(json::parse(r.common()) == json::parse(common));
  REQUIRE(vt().tensor_count(r.r) == 3);
  bool seen_qkv = false;
  for (size_t i = 0; i < 3; ++i) {
    msw_tensor_info info{};
    info.struct_size = sizeof info;
    ok(vt().tensor_info(r.r, i, &info));
    if (std::string(info.key) == "decoder.layers.self_attention.linear_qkv.weight") {
      seen_qkv = true;
      CHECK(info.dtype == MSW_DTYPE_BF16);
      CHECK(info.ndim == 2);
      CHECK(info.global_shape[0] == 2);
      CHECK(info.global_shape[1] == 3);
    }
  }
  CHECK(seen_qkv);
  std::vector<float> col(2);  // column 1 of the assembled qkv, converted to f32
  const int64_t off[2] = {0, 1};
  msw_read_args ra{};
  ra.struct_size = sizeof ra;
  ra.key = "decoder.layers.self_attention.linear_qkv.weight";
  ra.offset = off;
  ra.out = view(col.data(), MSW_DTYPE_F32, {2, 1});
  ok(vt().read_region(r.r, &ra));
  CHECK(col == std::vector<float>{2.0f, 5.0f});
  std::vector<float> back(200);
  const int64_t zero[2] = {0, 0};
  ra.key = "embedding.word_embeddings.weight";
  ra.offset = zero;
  ra.out = view(back.data(), MSW_DTYPE_F32, {20, 10});
  ok(vt().read_region(r.r, &ra));
  CHECK(back == big);
}

TEST_CASE("two ranks save through the vtable; the coordinator's commit_save merges into the HF layout") {
  Instance inst(R"({"args":{"max_shard_size":"5GB"}})");
  const fs::path dir = scratch("plugin-ranks");
  std::vector<float> full(12);
  for (size_t i = 0; i < full.size(); ++i) full[i] = static_cast<float>(i * i);
  const std::string common = R"({"iteration":5})";
  for (int32_t rank = 0; rank < 2; ++rank) {
    SaveArgs a(dir.string(), common, rank, 2);
    void* w = nullptr;
    ok(vt().begin_save(inst.self, &a.a, &w));
    const msw_shard s = shard("w", {4, 3}, {2 * rank, 0}, view(full.data() + 6 * rank, MSW_DTYPE_F32, {2, 3}));
    ok(vt().write_shards(w, &s, 1, sizeof s));
    ok(vt().finish_save(w));
  }
  for (int32_t rank : {1, 0}) {
    SaveArgs a(dir.string(), common, rank, 2);
    ok(vt().commit_save(inst.self, &a.a));
  }
  std::vector<std::string> names;
  for (const auto& e : fs::directory_iterator(dir)) names.push_back(e.path().filename().string());
  CHECK(names == std::vector<std::string>{"model.safetensors"});
  Reader r(inst.self, dir.string());
  CHECK(json::parse(r.common()) == json::parse(common));
  std::vector<float> back(12);
  const int64_t zero[2] = {0, 0};
  msw_read_args ra{};
  ra.struct_size = sizeof ra;
  ra.key = "w";
  ra.offset = zero;
  ra.out = view(back.data(), MSW_DTYPE_F32, {4, 3});
  ok(vt().read_region(r.r, &ra));
  CHECK(back == full);
}

TEST_CASE("failures come back as statuses with the code and a message naming the thing") {
  void* self = nullptr;
  Status s = take(vt().create(R"({"args":{"max_shard_size":"lots"}})", &self));
  CHECK(s.code == MSW_STATUS_INVALID_ARGUMENT);
  CHECK(s.message.find("max_shard_size \"lots\"") != std::string::npos);
  Instance inst("{}");
  const fs::path empty = scratch("plugin-empty");
  msw_open_args a{};
  a.struct_size = sizeof a;
  const std::string d = empty.string();
  a.dir = d.c_str();
  void* r = nullptr;
  s = take(vt().open(inst.self, &a, &r));
  CHECK(s.code == MSW_STATUS_NOT_FOUND);
  CHECK(s.message.find(d) != std::string::npos);
}
