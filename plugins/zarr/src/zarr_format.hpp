// The `zarr` checkpoint format: Megatron-Core's zarr sharded layout (research/formats.md section 2).
//
//   <dir>/metadata.json        {"sharded_backend": "zarr", "sharded_backend_version": 1}, written last
//   <dir>/common_state.json    the common state JSON, verbatim (see below)
//   <dir>/<key>/.zarray        zarr v2 array metadata; chunks = the shard shape, compressor null
//   <dir>/<key>/<i>.<j>...     one raw little-endian C-order chunk file per shard, named by its grid index
//
// Common state: Megatron keeps it in common.pt (a torch pickle). This plugin has no pickle writer, so it
// stores the JSON in common_state.json instead: Megatron itself would not find common.pt in a checkpoint
// we write (its tensors load, its common state does not), and reading a Megatron-written zarr checkpoint
// gives every tensor but read_common fails with a message saying so.
//
// Saving on N ranks without any collective, as Megatron does (it only barriers): the rank that holds the
// shard at global offset 0 (replica 0) creates the array's .zarray while writing; every rank writes its own
// chunk files. In commit_save, after the host's barrier, each rank checks its shards against the .zarray
// that now exists (the chunk grid is the offset-0 shard's shape, so shards of unequal shapes are caught
// here), and the coordinator checks every array for complete chunk files of the right size before it
// writes common_state.json and then metadata.json. This needs a directory every rank sees (as the host's
// rename into place does anyway).
//
// Writes are synchronous whatever args.async says (checkpoint.h lets a format finish early, not late):
// write_shards writes and fsyncs each chunk file, finish_save fsyncs the directories.
#pragma once

#include "zarray.hpp"

#include <megaswift/sdk/checkpoint.hpp>

#include <map>
#include <mutex>

namespace megaswift::zarr {

inline constexpr const char* kMetadataFile = "metadata.json";
inline constexpr const char* kCommonFile = "common_state.json";
inline constexpr size_t kMaxMetadataBytes = 64u << 20;

// What one rank wrote of one key, kept from finish() to commit_save().
struct WrittenKey {
  int32_t dtype = MSW_DTYPE_F32;
  Dims global_shape;
  Dims shard_shape;
};
using WrittenKeys = std::map<std::string, WrittenKey>;

class ZarrFormat : public sdk::CheckpointFormat {
 public:
  explicit ZarrFormat(std::string_view config_json);

  int32_t probe(const std::string& dir) override;
  std::unique_ptr<sdk::CheckpointWriter> begin_save(const sdk::SaveArgs& args) override;
  void commit_save(const sdk::SaveArgs& args) override;
  std::unique_ptr<sdk::CheckpointReader> open(const sdk::OpenArgs& args) override;

  // Called by a writer's finish(): what this rank wrote into `dir`, checked in commit_save.
  void remember(const std::string& dir, WrittenKeys keys);

 private:
  std::mutex mutex_;
  std::map<std::string, WrittenKeys> pending_;  // by checkpoint directory
};

std::unique_ptr<sdk::CheckpointWriter> make_writer(ZarrFormat& format, const sdk::SaveArgs& args);
std::unique_ptr<sdk::CheckpointReader> make_reader(const sdk::OpenArgs& args);

// The array directories of `dir` (subdirectories holding .zarray, names ending in ".sync" skipped, as
// Megatron's loader), sorted.
std::vector<std::string> array_keys(const std::string& dir);

}  // namespace megaswift::zarr
