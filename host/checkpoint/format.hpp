// A checkpoint-format plugin as the host drives it: an owned instance of the component, readers, and the
// three-step save of checkpoint.h (begin/write/finish on every rank, barrier, commit on every rank).
// Nothing here knows a file format.
#pragma once

#include "host/plugin_host/registry.hpp"

#include <megaswift/c/checkpoint.h>

#include <cstdint>
#include <filesystem>
#include <memory>
#include <span>
#include <string>
#include <vector>

namespace megaswift::host {

// The names of every loaded checkpoint-format component, sorted.
std::vector<std::string> checkpoint_format_names(const PluginRegistry& registry);

// The component named `name`; HostError (NOT_FOUND) "unknown --ckpt_format 'foo': available: torch_dist, zarr"
// (or "no checkpoint-format plugin is loaded") otherwise.
const LoadedComponent& require_checkpoint_format(const PluginRegistry& registry, const std::string& name);

// What a reader holds of one global tensor.
struct StoredTensor {
  std::string key;
  int32_t dtype = MSW_DTYPE_F32;
  std::vector<int64_t> global_shape;
};

class CheckpointReader {
 public:
  CheckpointReader(std::string format, const msw_checkpoint_vtable& vt, void* reader, std::filesystem::path dir);
  ~CheckpointReader();
  CheckpointReader(const CheckpointReader&) = delete;
  CheckpointReader& operator=(const CheckpointReader&) = delete;

  const std::filesystem::path& dir() const { return dir_; }
  const std::string& format() const { return format_; }
  // The common state JSON text as the format stored it.
  const std::string& common_json() const { return common_; }
  const std::vector<StoredTensor>& tensors() const { return tensors_; }
  const StoredTensor* find(const std::string& key) const;
  // Region [offset, offset + out.shape) of `key` into `out` (CPU, dense), converted to out.dtype by the plugin.
  // HostError naming the key, the region and the directory when the tensor is absent or the region outside it.
  void read_region(const std::string& key, std::span<const int64_t> offset, const msw_tensor& out) const;

 private:
  std::string format_;
  msw_checkpoint_vtable vt_;
  void* reader_;
  std::filesystem::path dir_;
  std::string common_;
  std::vector<StoredTensor> tensors_;
};

// One rank's piece of a global tensor, as the host hands it to a format.
struct TensorShard {
  std::string key;
  std::vector<int64_t> global_shape;
  std::vector<int64_t> global_offset;
  msw_tensor data{};  // dense, CPU, ndim == global_shape.size()
  // When the tensor lives on a device: its bytes copied to the host (data points into them), kept alive with the shard.
  std::shared_ptr<const std::vector<unsigned char>> host_copy{};
};

// The shard with its data in host memory: itself for a CPU tensor, else a host copy of the device tensor's bytes
// (read after the work queued on `stream`), which checkpoint formats write.
TensorShard on_host(TensorShard shard, void* stream);
// Reads a shard's region from `reader` into its data, through a host copy when the data lives on a device.
void read_into(const CheckpointReader& reader, const TensorShard& shard, void* stream);

class CheckpointFormat {
 public:
  // An instance of a registry component; config_json as msw_checkpoint_vtable.create takes it.
  explicit CheckpointFormat(const LoadedComponent& component, const std::string& config_json = "{\"args\":{}}");
  ~CheckpointFormat();
  CheckpointFormat(CheckpointFormat&& other) noexcept;
  CheckpointFormat& operator=(CheckpointFormat&&) = delete;
  CheckpointFormat(const CheckpointFormat&) = delete;

  const std::string& name() const { return name_; }
  // 0..100; 0 when the plugin has no probe.
  int32_t probe(const std::filesystem::path& dir) const;
  std::unique_ptr<CheckpointReader> open(const std::filesystem::path& dir, int32_t rank = 0,
                                         int32_t world_size = 1, msw_comm* comm = nullptr) const;

  // One rank's writer (begin_save .. finish_save). The destructor of an unfinished writer finishes it, so the
  // plugin frees it on every path.
  class Writer {
   public:
    Writer(const CheckpointFormat& format, const msw_save_args& args);
    ~Writer();
    Writer(const Writer&) = delete;
    Writer& operator=(const Writer&) = delete;
    void write(std::span<const TensorShard> shards);
    void finish();

   private:
    const CheckpointFormat& format_;
    void* writer_ = nullptr;
  };

  // The save arguments of rank `rank` of `world_size` (the strings must outlive the save).
  static msw_save_args save_args(const std::string& dir, const std::string& common_json, int32_t rank,
                                 int32_t world_size, msw_comm* comm = nullptr);
  void commit(const msw_save_args& args) const;

  // Saves the shards of `ranks.size()` ranks into `dir` the way a job of that many ranks does, all in this
  // process (comm NULL): every rank's begin/write/finish, then every rank's commit. Used by single-process
  // saves (one rank) and by tests that simulate a sharded layout.
  void save_simulated_ranks(const std::filesystem::path& dir, const std::string& common_json,
                            const std::vector<std::vector<TensorShard>>& ranks) const;

 private:
  std::string name_;
  msw_checkpoint_vtable vt_{};
  void* self_ = nullptr;
};

}  // namespace megaswift::host
