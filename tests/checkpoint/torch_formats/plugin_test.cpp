// The torch_formats plugin library through the host's registry and the C ABI: both components load, and a
// save / open / read cycle through the vtable (args structs, shard records, the buffer protocol, statuses).
#include "host/core/host_api.hpp"
#include "host/core/status.hpp"
#include "host/plugin_host/registry.hpp"

#include <megaswift/c/checkpoint.h>

#include <doctest/doctest.h>

#include <unistd.h>

#include <cstring>
#include <filesystem>
#include <string>
#include <vector>

namespace fs = std::filesystem;
using megaswift::host::PluginRegistry;

namespace {

const PluginRegistry& registry() {
  static const PluginRegistry* r = [] {
    auto* reg = new PluginRegistry(megaswift::host::host_api());
    reg->load_library(fs::path(MSW_PLUGIN_BUILD_DIR) / "libmegaswift_checkpoint_torch_formats.so");
    return reg;
  }();
  return *r;
}

msw_checkpoint_vtable vtable(const char* name) {
  return PluginRegistry::vtable_copy<msw_checkpoint_vtable>(registry().require(MSW_KIND_CHECKPOINT, name));
}

void ok(msw_status* s, const char* what) { megaswift::host::throw_if_error(s, what); }

msw_tensor tensor(void* data, int32_t dtype, std::vector<int64_t> shape) {
  msw_tensor t{};
  t.data = data;
  t.device = {MSW_DEVICE_CPU, 0};
  t.dtype = dtype;
  t.ndim = static_cast<int32_t>(shape.size());
  int64_t st = 1;
  for (size_t d = shape.size(); d-- > 0;) {
    t.shape[d] = shape[d];
    t.strides[d] = st;
    st *= shape[d];
  }
  return t;
}

// Saves a stacked bf16 key as two per-layer shards through `name`'s vtable and reads it back.
void cycle(const char* name) {
  const msw_checkpoint_vtable vt = vtable(name);
  REQUIRE(msw_checkpoint_vtable_missing_required(&vt) == nullptr);
  void* self = nullptr;
  ok(vt.create("{}", &self), "create");
  const fs::path dir = fs::temp_directory_path() / ("msw_torch_formats_plugin_" + std::to_string(::getpid())) / name;
  fs::remove_all(dir);
  fs::create_directories(dir);
  std::vector<uint16_t> layers(2 * 3 * 4);
  for (size_t i = 0; i < layers.size(); ++i) layers[i] = static_cast<uint16_t>(0x3f80 + i);
  const std::string dir_s = dir.string();
  msw_save_args sa{};
  sa.struct_size = sizeof sa;
  sa.dir = dir_s.c_str();
  sa.common_state_json = R"({"iteration": 3, "checkpoint_version": 3.0, "args": {"num_layers": 2}})";
  sa.world_size = 1;
  void* w = nullptr;
  ok(vt.begin_save(self, &sa, &w), "begin_save");
  msw_shard shards[2]{};
  for (int i = 0; i < 2; ++i) {
    shards[i].struct_size = sizeof(msw_shard);
    shards[i].ndim = 3;
    shards[i].key = "decoder.layers.self_attention.linear_qkv.weight";
    const int64_t gs[3] = {2, 3, 4}, off[3] = {i, 0, 0};
    std::memcpy(shards[i].global_shape, gs, sizeof gs);
    std::memcpy(shards[i].global_offset, off, sizeof off);
    shards[i].data = tensor(layers.data() + i * 12, MSW_DTYPE_BF16, {1, 3, 4});
  }
  ok(vt.write_shards(w, shards, 2, sizeof(msw_shard)), "write_shards");
  ok(vt.finish_save(w), "finish_save");
  ok(vt.commit_save(self, &sa), "commit_save");
  CHECK(vt.probe(self, dir_s.c_str()) == 100);

  msw_open_args oa{};
  oa.struct_size = sizeof oa;
  oa.dir = dir_s.c_str();
  oa.world_size = 1;
  void* r = nullptr;
  ok(vt.open(self, &oa, &r), "open");
  size_t needed = 0;
  ok(vt.read_common(r, nullptr, 0, &needed), "read_common size");
  std::string common(needed, '\0');
  ok(vt.read_common(r, common.data(), common.size(), &needed), "read_common");
  CHECK(std::string(common.c_str()).find("\"num_layers\":2") != std::string::npos);
  REQUIRE(vt.tensor_count(r) == 1);
  msw_tensor_info info{};
  info.struct_size = sizeof info;
  ok(vt.tensor_info(r, 0, &info), "tensor_info");
  CHECK(std::string(info.key) == "decoder.layers.self_attention.linear_qkv.weight");
  CHECK(info.dtype == MSW_DTYPE_BF16);
  CHECK(info.ndim == 3);
  std::vector<uint16_t> back(24, 0);
  const int64_t zero[3] = {0, 0, 0};
  msw_read_args ra{};
  ra.struct_size = sizeof ra;
  ra.key = info.key;
  ra.offset = zero;
  ra.out = tensor(back.data(), MSW_DTYPE_BF16, {2, 3, 4});
  ok(vt.read_region(r, &ra), "read_region");
  CHECK(back == layers);
  ra.key = "missing";
  msw_status* st = vt.read_region(r, &ra);
  REQUIRE(st);
  CHECK(megaswift::host::host_api().status_code(st) == MSW_STATUS_NOT_FOUND);
  megaswift::host::host_api().status_free(st);
  vt.reader_destroy(r);

  const std::string empty = (dir / "empty").string();
  fs::create_directories(empty);
  oa.dir = empty.c_str();
  st = vt.open(self, &oa, &r);
  REQUIRE(st);
  CHECK(megaswift::host::host_api().status_code(st) == MSW_STATUS_NOT_FOUND);
  megaswift::host::host_api().status_free(st);
  vt.destroy(self);
}

}  // namespace

TEST_CASE("torch_formats plugin: torch_dist saves, opens and reads through the C ABI") { cycle("torch_dist"); }
TEST_CASE("torch_formats plugin: torch saves, opens and reads through the C ABI") { cycle("torch"); }
