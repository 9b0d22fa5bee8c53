// Drives a checkpoint plugin through its C vtable as the host will: the three-step save of several ranks
// in one process (ranks share the directory, as they share a filesystem), and reads by region. Used by the
// zarr and hdf5 plugin tests.
#pragma once

#include "host/core/host_api.hpp"
#include "host/plugin_host/registry.hpp"

#include <megaswift/c/checkpoint.h>
#include <megaswift/sdk/buffer.hpp>
#include <megaswift/sdk/status.hpp>
#include <scratch_dir.hpp>
#include <test_paths.hpp>

#include <cstring>
#include <filesystem>
#include <fstream>
#include <random>
#include <sstream>
#include <string>
#include <vector>

namespace ckpt_test {

namespace fs = std::filesystem;
using Dims = std::vector<int64_t>;
using megaswift::sdk::Error;

inline void check(msw_status* s) { megaswift::sdk::check(s, megaswift::host::host_api()); }

// A fresh, empty directory in this process's scratch folder (removed when the test process exits).
inline fs::path fresh_dir(const std::string& name) {
  fs::path dir = megaswift::testing::scratch_dir("msw_checkpoint_zarr_hdf5") / name;
  fs::remove_all(dir);
  fs::create_directories(dir);
  return dir;
}

// One shard with its own bytes.
struct TestShard {
  std::string key;
  int32_t dtype;
  Dims global_shape, offset, shape;
  std::vector<char> bytes;
  int32_t replica_id = 0;
};

inline int64_t numel(const Dims& d) {
  int64_t n = 1;
  for (int64_t v : d) n *= v;
  return n;
}

inline msw_tensor view(void* data, int32_t dtype, const Dims& shape) {
  msw_tensor t{};
  t.data = data;
  t.device = {MSW_DEVICE_CPU, 0};
  t.dtype = dtype;
  msw_tensor_set_dense_shape(&t, static_cast<int32_t>(shape.size()), shape.data());
  return t;
}

// Deterministic bytes for a global tensor; element i of a float tensor is a distinct finite value so a
// misplaced element is seen.
inline std::vector<char> global_bytes(int32_t dtype, const Dims& shape, uint32_t seed) {
  const size_t es = msw_dtype_size(dtype);
  std::vector<char> out(static_cast<size_t>(numel(shape)) * es);
  std::mt19937 rng(seed);
  for (size_t i = 0; i < out.size(); ++i) out[i] = static_cast<char>(rng());
  if (dtype == MSW_DTYPE_BF16 || dtype == MSW_DTYPE_F16 || dtype == MSW_DTYPE_F32) {
    // Keep exponents away from NaN/inf patterns so float comparisons are meaningful.
    for (size_t i = 0; i < out.size(); i += es) out[i + es - 1] = static_cast<char>(0x3c + (i / es) % 3);
  }
  return out;
}

// The part [offset, offset + shape) of a dense global tensor.
inline std::vector<char> slice(const std::vector<char>& global, int32_t dtype, const Dims& gshape, const Dims& offset,
                               const Dims& shape) {
  const size_t es = msw_dtype_size(dtype);
  std::vector<char> out(static_cast<size_t>(numel(shape)) * es);
  const size_t nd = shape.size();
  Dims idx(nd, 0);
  for (size_t i = 0; i < out.size() / es; ++i) {
    int64_t g = 0;
    for (size_t d = 0; d < nd; ++d) g = g * gshape[d] + offset[d] + idx[d];
    std::memcpy(out.data() + i * es, global.data() + g * es, es);
    for (size_t d = nd; d > 0; --d) {
      if (++idx[d - 1] < shape[d - 1]) break;
      idx[d - 1] = 0;
    }
  }
  return out;
}

// The sanitizer build of these tests (MEGASWIFT_CHECKPOINT_SANITIZERS) loads plugins built with ASan/UBSan
// from their own folder, under a suffixed file name.
#ifndef CKPT_TEST_PLUGIN_DIR
#define CKPT_TEST_PLUGIN_DIR ""
#endif
#ifndef CKPT_TEST_LIB_SUFFIX
#define CKPT_TEST_LIB_SUFFIX ""
#endif

// The checkpoint component `component` of libmegaswift_checkpoint_<component>.so.
class Plugin {
 public:
  explicit Plugin(const std::string& component) {
    static megaswift::host::PluginRegistry* registry = new megaswift::host::PluginRegistry(megaswift::host::host_api());
    const fs::path dir = *CKPT_TEST_PLUGIN_DIR ? fs::path(CKPT_TEST_PLUGIN_DIR) : megaswift::testing::plugin_dir();
    if (!registry->find(MSW_KIND_CHECKPOINT, component))
      registry->load_library(dir / ("libmegaswift_checkpoint_" + component + CKPT_TEST_LIB_SUFFIX + ".so"));
    vt_ = megaswift::host::PluginRegistry::vtable_copy<msw_checkpoint_vtable>(
        registry->require(MSW_KIND_CHECKPOINT, component));
    check(vt_.create("{}", &self_));
  }
  ~Plugin() { vt_.destroy(self_); }
  Plugin(const Plugin&) = delete;
  Plugin& operator=(const Plugin&) = delete;

  const msw_checkpoint_vtable& vt() const { return vt_; }
  void* self() const { return self_; }

  // The struct points into `dir` and `common`: both must outlive it (no temporaries).
  msw_save_args save_args(const std::string& dir, const std::string& common, int rank, int world) const {
    msw_save_args a{};
    a.struct_size = sizeof(a);
    a.dir = dir.c_str();
    a.common_state_json = common.c_str();
    a.rank = rank;
    a.world_size = world;
    a.coordinator_rank = 0;
    return a;
  }

  // Step 1 of a save for one rank: begin_save, write_shards, finish_save.
  void write_rank(const std::string& dir, const std::string& common, int rank, int world,
                  std::vector<TestShard>& shards) const {
    msw_save_args a = save_args(dir, common, rank, world);
    void* writer = nullptr;
    check(vt_.begin_save(self_, &a, &writer));
    std::vector<msw_shard> records;
    for (TestShard& s : shards) {
      msw_shard r{};
      r.struct_size = sizeof(r);
      r.ndim = static_cast<int32_t>(s.shape.size());
      r.key = s.key.c_str();
      r.replica_id = s.replica_id;
      for (size_t d = 0; d < s.shape.size(); ++d) {
        r.global_shape[d] = s.global_shape[d];
        r.global_offset[d] = s.offset[d];
      }
      r.data = view(s.bytes.data(), s.dtype, s.shape);
      records.push_back(r);
    }
    msw_status* st = vt_.write_shards(writer, records.data(), records.size(), sizeof(msw_shard));
    msw_status* fin = vt_.finish_save(writer);
    check(st);
    check(fin);
  }

  void commit(const std::string& dir, const std::string& common, int rank, int world) const {
    msw_save_args a = save_args(dir, common, rank, world);
    check(vt_.commit_save(self_, &a));
  }

  // A whole save: every rank writes, then every rank commits (the coordinator last, which a real host
  // does not promise; the format must not depend on the order).
  void save(const std::string& dir, const std::string& common, std::vector<std::vector<TestShard>>& per_rank) const {
    const int world = static_cast<int>(per_rank.size());
    for (int r = 0; r < world; ++r) write_rank(dir, common, r, world, per_rank[r]);
    for (int r = world - 1; r >= 0; --r) commit(dir, common, r, world);
  }

  int32_t probe(const std::string& dir) const { return vt_.probe(self_, dir.c_str()); }

 private:
  msw_checkpoint_vtable vt_{};
  void* self_ = nullptr;
};

class Reader {
 public:
  Reader(const Plugin& p, const std::string& dir) : vt_(p.vt()) {
    msw_open_args a{};
    a.struct_size = sizeof(a);
    a.dir = dir.c_str();
    a.world_size = 1;
    check(vt_.open(p.self(), &a, &reader_));
  }
  ~Reader() {
    if (reader_) vt_.reader_destroy(reader_);
  }
  Reader(const Reader&) = delete;
  Reader& operator=(const Reader&) = delete;

  std::string common() const {
    return megaswift::sdk::read_text(
        [&](char* out, size_t cap, size_t* needed) { check(vt_.read_common(reader_, out, cap, needed)); }, "read_common");
  }
  size_t count() const { return vt_.tensor_count(reader_); }
  msw_tensor_info info(size_t i) const {
    msw_tensor_info out{};
    out.struct_size = sizeof(out);
    check(vt_.tensor_info(reader_, i, &out));
    return out;
  }
  std::vector<char> read(const std::string& key, int32_t dtype, const Dims& offset, const Dims& shape) const {
    std::vector<char> out(static_cast<size_t>(numel(shape)) * msw_dtype_size(dtype));
    msw_read_args a{};
    a.struct_size = sizeof(a);
    a.key = key.c_str();
    a.offset = offset.data();
    a.out = view(out.data(), dtype, shape);
    check(vt_.read_region(reader_, &a));
    return out;
  }

 private:
  msw_checkpoint_vtable vt_;
  void* reader_ = nullptr;
};

// Saves `tensors` from two simulated ranks into a fresh `name` directory: rank i writes shard_of(t, i) of each.
template <class T, class ShardOf>
fs::path save_from_two_ranks(const std::string& component, const std::string& name, const std::vector<T>& tensors,
                             ShardOf shard_of, const std::string& common_state_json) {
  Plugin p(component);
  const fs::path dir = fresh_dir(name);
  std::vector<std::vector<TestShard>> ranks(2);
  for (const T& t : tensors)
    for (int i = 0; i < 2; ++i) ranks[i].push_back(shard_of(t, i));
  p.save(dir, common_state_json, ranks);
  return dir;
}

inline std::string slurp(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

}  // namespace ckpt_test
