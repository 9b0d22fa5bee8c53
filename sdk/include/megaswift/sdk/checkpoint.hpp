// C++ layer for checkpoint-format plugins: derive from CheckpointFormat (constructible from the config JSON
// text), return a CheckpointWriter from begin_save and a CheckpointReader from open, and register with
// checkpoint_component<T>(). See megaswift/c/checkpoint.h for the contract (three-step saves, the coordinator
// commit, async writes, resharding by regions).
//
// The trampolines read every args struct through the caller's struct_size and every shard record through its
// struct_size and the array's element size, so the classes below see plain C++ values: members a caller of an
// older minor did not write are absent (zero), and a record too short to hold its required members is refused.
#pragma once

#include <megaswift/c/checkpoint.h>
#include <megaswift/sdk/buffer.hpp>
#include <megaswift/sdk/object.hpp>
#include <megaswift/sdk/plugin.hpp>
#include <megaswift/sdk/records.hpp>
#include <megaswift/sdk/tensor.hpp>

#include <algorithm>
#include <cstring>
#include <memory>
#include <string>
#include <string_view>
#include <type_traits>
#include <vector>

namespace megaswift::sdk {

// The members a reader cannot do without; everything after them reads as zero when the writer's struct_size
// stops before it.
inline constexpr size_t kShardMinSize = offsetof(msw_shard, data) + sizeof(msw_tensor);
inline constexpr size_t kTensorInfoMinSize = offsetof(msw_tensor_info, global_shape) + sizeof(int64_t) * MSW_MAX_DIMS;

// One rank's piece of a global tensor.
struct Shard {
  std::string key;
  std::vector<int64_t> global_shape;
  std::vector<int64_t> global_offset;  // where `data` starts inside the global tensor
  int32_t replica_id = 0;               // 0: the copy that is written
  msw_tensor data{};                    // dense, on the CPU
};

// What a reader knows of one global tensor.
struct TensorInfo {
  std::string key;
  int32_t dtype = MSW_DTYPE_F32;        // as stored
  std::vector<int64_t> global_shape;
};

struct SaveArgs {
  std::string dir;
  std::string common_state_json;
  int32_t rank = 0;
  int32_t world_size = 1;
  int32_t coordinator_rank = 0;
  bool async = false;
  msw_comm* comm = nullptr;             // NULL with one rank
  bool is_coordinator() const { return rank == coordinator_rank; }
};

struct OpenArgs {
  std::string dir;
  int32_t rank = 0;
  int32_t world_size = 1;
  msw_comm* comm = nullptr;
};

// One rank's writer: write() any number of times, then finish() (flush and fsync unless async).
class CheckpointWriter {
 public:
  virtual ~CheckpointWriter() = default;
  virtual void write(const std::vector<Shard>& shards) = 0;
  virtual void finish() = 0;
};

class CheckpointReader {
 public:
  virtual ~CheckpointReader() = default;
  virtual std::string common_state_json() const = 0;
  virtual size_t tensor_count() const = 0;
  virtual TensorInfo tensor_info(size_t index) const = 0;
  // Region [offset, offset + out.shape) of tensor `key` into `out` (CPU, dense), converted to out.dtype.
  virtual void read_region(const std::string& key, const std::vector<int64_t>& offset, const msw_tensor& out) = 0;
};

class CheckpointFormat {
 public:
  virtual ~CheckpointFormat() = default;
  // 0 (not this format) to 100 (certainly this format) for the directory `dir`.
  virtual int32_t probe(const std::string& dir) { (void)dir; return 0; }
  virtual std::unique_ptr<CheckpointWriter> begin_save(const SaveArgs& args) = 0;
  // The coordinator step (checkpoint.h): called on every rank after every rank's finish().
  virtual void commit_save(const SaveArgs& args) = 0;
  virtual std::unique_ptr<CheckpointReader> open(const OpenArgs& args) = 0;
};

namespace detail {

inline std::string required_text(const char* s, const char* what, const char* member) {
  if (!s) throw Error(MSW_STATUS_INVALID_ARGUMENT, std::string(what) + ": " + member + " is NULL");
  return s;
}

inline std::vector<int64_t> dims(const int64_t* v, int32_t ndim) { return std::vector<int64_t>(v, v + ndim); }

inline SaveArgs read_save_args(const msw_save_args* raw) {
  const msw_save_args a = read_record(raw, "begin_save: args", offsetof(msw_save_args, world_size) + sizeof(int32_t));
  SaveArgs s;
  s.dir = required_text(a.dir, "begin_save", "dir");
  s.common_state_json = a.common_state_json ? a.common_state_json : "{}";
  s.rank = a.rank;
  s.world_size = a.world_size > 0 ? a.world_size : 1;
  s.coordinator_rank = a.coordinator_rank;
  s.async = a.async != 0;
  s.comm = a.comm;
  if (s.rank < 0 || s.rank >= s.world_size || s.coordinator_rank < 0 || s.coordinator_rank >= s.world_size)
    throw Error(MSW_STATUS_INVALID_ARGUMENT, "begin_save: rank " + std::to_string(s.rank) + " and coordinator " +
                                                 std::to_string(s.coordinator_rank) + " must lie in [0, " +
                                                 std::to_string(s.world_size) + ")");
  return s;
}

inline OpenArgs read_open_args(const msw_open_args* raw) {
  const msw_open_args a = read_record(raw, "open: args", offsetof(msw_open_args, dir) + sizeof(const char*));
  OpenArgs o;
  o.dir = required_text(a.dir, "open", "dir");
  o.rank = a.rank;
  o.world_size = a.world_size > 0 ? a.world_size : 1;
  o.comm = a.comm;
  return o;
}

inline std::vector<Shard> read_shards(const msw_shard* shards, size_t count, size_t elem_size) {
  std::vector<Shard> out;
  out.reserve(count);
  for (const msw_shard& r : read_records(shards, count, elem_size, "write_shards: shard", kShardMinSize)) {
    if (r.ndim < 0 || r.ndim > MSW_MAX_DIMS)
      throw Error(MSW_STATUS_INVALID_ARGUMENT, "write_shards: a shard has ndim " + std::to_string(r.ndim));
    Shard s;
    s.key = required_text(r.key, "write_shards", "key");
    s.global_shape = dims(r.global_shape, r.ndim);
    s.global_offset = dims(r.global_offset, r.ndim);
    s.replica_id = r.replica_id;
    s.data = r.data;
    if (s.data.ndim != r.ndim)
      throw Error(MSW_STATUS_SHAPE_MISMATCH, "write_shards: " + s.key + " has " + std::to_string(r.ndim) +
                                                 " global dimensions but its data has " + std::to_string(s.data.ndim));
    for (int32_t d = 0; d < r.ndim; ++d)
      if (s.global_offset[d] < 0 || s.data.shape[d] < 0 || s.global_offset[d] + s.data.shape[d] > s.global_shape[d])
        throw Error(MSW_STATUS_SHAPE_MISMATCH, "write_shards: " + s.key + " data " + shape_string(s.data) +
                                                   " at offset " + std::to_string(s.global_offset[d]) + " of dimension " +
                                                   std::to_string(d) + " does not fit the global size " +
                                                   std::to_string(s.global_shape[d]));
    out.push_back(std::move(s));
  }
  return out;
}

// Writes `info` into the caller's record, only the members its struct_size covers.
inline void write_tensor_info(const TensorInfo& info, msw_tensor_info* out) {
  if (info.global_shape.size() > MSW_MAX_DIMS)
    throw Error(MSW_STATUS_UNSUPPORTED, "tensor_info: " + info.key + " has more than " +
                                            std::to_string(MSW_MAX_DIMS) + " dimensions");
  msw_tensor_info r{};
  r.dtype = info.dtype;
  r.key = info.key.c_str();
  r.ndim = static_cast<int32_t>(info.global_shape.size());
  for (size_t d = 0; d < info.global_shape.size(); ++d) r.global_shape[d] = info.global_shape[d];
  write_record(out, r, "tensor_info", kTensorInfoMinSize);
}

// A reader keeps the TensorInfo strings it hands out alive until it is destroyed.
struct ReaderBox {
  std::unique_ptr<CheckpointReader> reader;
  std::vector<TensorInfo> infos;  // filled on first tensor_info call, so key pointers stay valid
};

template <class T>
struct CheckpointTrampolines {
  static int32_t probe(void* self, const char* dir) noexcept {
    return guard_value<int32_t>(0, "checkpoint probe", [&] { return self_cast<T>(self).probe(dir ? dir : ""); });
  }
  static msw_status* begin_save(void* self, const msw_save_args* args, void** out_writer) noexcept {
    return guard([&] {
      if (!out_writer) throw Error(MSW_STATUS_INVALID_ARGUMENT, "begin_save: out_writer is NULL");
      std::unique_ptr<CheckpointWriter> w = self_cast<T>(self).begin_save(read_save_args(args));
      if (!w) throw Error(MSW_STATUS_INTERNAL, "begin_save: the format returned no writer");
      *out_writer = w.release();
    });
  }
  static msw_status* write_shards(void* writer, const msw_shard* shards, size_t count, size_t elem_size) noexcept {
    return guard([&] {
      if (!writer) throw Error(MSW_STATUS_INVALID_ARGUMENT, "write_shards: writer is NULL");
      static_cast<CheckpointWriter*>(writer)->write(read_shards(shards, count, elem_size));
    });
  }
  static msw_status* finish_save(void* writer) noexcept {
    std::unique_ptr<CheckpointWriter> w(static_cast<CheckpointWriter*>(writer));  // freed also on failure
    return guard([&] {
      if (!w) throw Error(MSW_STATUS_INVALID_ARGUMENT, "finish_save: writer is NULL");
      w->finish();
    });
  }
  static msw_status* commit_save(void* self, const msw_save_args* args) noexcept {
    return guard([&] { self_cast<T>(self).commit_save(read_save_args(args)); });
  }
  static msw_status* open(void* self, const msw_open_args* args, void** out_reader) noexcept {
    return guard([&] {
      if (!out_reader) throw Error(MSW_STATUS_INVALID_ARGUMENT, "open: out_reader is NULL");
      auto box = std::make_unique<ReaderBox>();
      box->reader = self_cast<T>(self).open(read_open_args(args));
      if (!box->reader) throw Error(MSW_STATUS_INTERNAL, "open: the format returned no reader");
      *out_reader = box.release();
    });
  }
  static ReaderBox& box(void* reader) {
    if (!reader) throw Error(MSW_STATUS_INVALID_ARGUMENT, "checkpoint reader is NULL");
    return *static_cast<ReaderBox*>(reader);
  }
  static msw_status* read_common(void* reader, char* out, size_t capacity, size_t* needed) noexcept {
    return guard([&] { write_text(box(reader).reader->common_state_json(), out, capacity, needed, "read_common"); });
  }
  static size_t tensor_count(void* reader) noexcept {
    return guard_value<size_t>(0, "checkpoint tensor_count", [&] { return box(reader).reader->tensor_count(); });
  }
  static msw_status* tensor_info(void* reader, size_t index, msw_tensor_info* out) noexcept {
    return guard([&] {
      ReaderBox& b = box(reader);
      if (b.infos.empty()) {
        const size_t n = b.reader->tensor_count();
        b.infos.reserve(n);
        for (size_t i = 0; i < n; ++i) b.infos.push_back(b.reader->tensor_info(i));
      }
      if (index >= b.infos.size())
        throw Error(MSW_STATUS_INVALID_ARGUMENT, "tensor_info: index " + std::to_string(index) + " is outside [0, " +
                                                     std::to_string(b.infos.size()) + ")");
      write_tensor_info(b.infos[index], out);
    });
  }
  static msw_status* read_region(void* reader, const msw_read_args* raw) noexcept {
    return guard([&] {
      const msw_read_args a = read_record(raw, "read_region: args", offsetof(msw_read_args, out) + sizeof(msw_tensor));
      const std::string key = required_text(a.key, "read_region", "key");
      if (!a.offset && a.out.ndim > 0) throw Error(MSW_STATUS_INVALID_ARGUMENT, "read_region: offset is NULL");
      box(reader).reader->read_region(key, dims(a.offset, a.out.ndim), a.out);
    });
  }
  static void reader_destroy(void* reader) noexcept { delete static_cast<ReaderBox*>(reader); }

  static constexpr msw_checkpoint_vtable make() {
    msw_checkpoint_vtable v{};
    v.struct_size = sizeof(msw_checkpoint_vtable);
    v.create = create_instance<T>;
    v.destroy = destroy_instance<T>;
    v.probe = probe;
    v.begin_save = begin_save;
    v.write_shards = write_shards;
    v.finish_save = finish_save;
    v.commit_save = commit_save;
    v.open = open;
    v.read_common = read_common;
    v.tensor_count = tensor_count;
    v.tensor_info = tensor_info;
    v.read_region = read_region;
    v.reader_destroy = reader_destroy;
    return v;
  }
  static const msw_checkpoint_vtable& vtable() {
    static constexpr msw_checkpoint_vtable v = make();
    return v;
  }
};

}  // namespace detail

template <class T>
msw_component checkpoint_component(const char* name, const char* version, const char* summary) {
  static_assert(std::is_base_of_v<CheckpointFormat, T>, "T must derive from megaswift::sdk::CheckpointFormat");
  return make_component(MSW_KIND_CHECKPOINT, name, version, summary, &detail::CheckpointTrampolines<T>::vtable());
}

}  // namespace megaswift::sdk
