#include "host/checkpoint/format.hpp"

#include "host/core/device_copy.hpp"
#include "host/core/status.hpp"
#include "host/core/text_io.hpp"
#include "host/model/safetensors.hpp"

#include <algorithm>
#include <cstring>

namespace megaswift::host {
namespace {

std::string join(const std::vector<std::string>& items) {
  std::string out;
  for (const auto& s : items) out += (out.empty() ? "" : ", ") + s;
  return out;
}

msw_shard to_record(const TensorShard& s) {
  if (s.global_shape.size() != s.global_offset.size() || s.data.ndim != static_cast<int32_t>(s.global_shape.size()) ||
      s.global_shape.size() > MSW_MAX_DIMS)
    throw HostError(MSW_STATUS_INTERNAL, "checkpoint shard " + s.key + ": shape, offset and data disagree in rank");
  msw_shard r{};
  r.struct_size = sizeof(r);
  r.ndim = s.data.ndim;
  r.key = s.key.c_str();
  for (size_t d = 0; d < s.global_shape.size(); ++d) {
    r.global_shape[d] = s.global_shape[d];
    r.global_offset[d] = s.global_offset[d];
  }
  r.data = s.data;
  return r;
}

}  // namespace

std::vector<std::string> checkpoint_format_names(const PluginRegistry& registry) {
  std::vector<std::string> names;
  for (const LoadedComponent* c : registry.list(MSW_KIND_CHECKPOINT)) names.push_back(c->name);
  std::sort(names.begin(), names.end());
  return names;
}

const LoadedComponent& require_checkpoint_format(const PluginRegistry& registry, const std::string& name) {
  if (const LoadedComponent* c = registry.find(MSW_KIND_CHECKPOINT, name)) return *c;
  const auto names = checkpoint_format_names(registry);
  throw HostError(MSW_STATUS_NOT_FOUND,
                  "unknown --ckpt_format '" + name + "': " +
                      (names.empty() ? std::string("no checkpoint-format plugin is loaded (check --plugin_path and "
                                                   "MEGASWIFT_PLUGIN_PATH; `megatron plugins` lists what was found)")
                                     : "available: " + join(names)));
}

// ------------------------------------------------------------------------------------------------ reader

CheckpointReader::CheckpointReader(std::string format, const msw_checkpoint_vtable& vt, void* reader,
                                   std::filesystem::path dir)
    : format_(std::move(format)), vt_(vt), reader_(reader), dir_(std::move(dir)) {
  try {
    const std::string where = format_ + " checkpoint " + dir_.string();
    common_ = read_plugin_text([&](char* out, size_t cap, size_t* needed) { return vt_.read_common(reader_, out, cap, needed); },
                          where + ": reading the common state");
    const size_t n = vt_.tensor_count(reader_);
    tensors_.reserve(n);
    for (size_t i = 0; i < n; ++i) {
      msw_tensor_info info{};
      info.struct_size = sizeof(info);
      throw_if_error(vt_.tensor_info(reader_, i, &info), where + ": tensor " + std::to_string(i));
      if (!info.key || info.ndim < 0 || info.ndim > MSW_MAX_DIMS)
        throw HostError(MSW_STATUS_INVALID_ARGUMENT, where + ": tensor " + std::to_string(i) + " has no key or a bad rank");
      tensors_.push_back({info.key, info.dtype, std::vector<int64_t>(info.global_shape, info.global_shape + info.ndim)});
    }
  } catch (...) {
    vt_.reader_destroy(reader_);
    throw;
  }
}

CheckpointReader::~CheckpointReader() { vt_.reader_destroy(reader_); }

const StoredTensor* CheckpointReader::find(const std::string& key) const {
  for (const auto& t : tensors_)
    if (t.key == key) return &t;
  return nullptr;
}

void CheckpointReader::read_region(const std::string& key, std::span<const int64_t> offset, const msw_tensor& out) const {
  const StoredTensor* t = find(key);
  if (!t)
    throw HostError(MSW_STATUS_NOT_FOUND, "checkpoint " + dir_.string() + " has no tensor " + key);
  const std::vector<int64_t> shape(out.shape, out.shape + out.ndim);
  if (offset.size() != static_cast<size_t>(out.ndim) || shape.size() != t->global_shape.size())
    throw HostError(MSW_STATUS_SHAPE_MISMATCH, "checkpoint " + dir_.string() + ": tensor " + key + " has shape " +
                                                   shape_string(t->global_shape) + ", a " + std::to_string(out.ndim) +
                                                   "-d region cannot be read from it");
  for (size_t d = 0; d < shape.size(); ++d)
    if (offset[d] < 0 || offset[d] + shape[d] > t->global_shape[d])
      throw HostError(MSW_STATUS_SHAPE_MISMATCH, "checkpoint " + dir_.string() + ": region " + shape_string(shape) +
                                                     " at " + shape_string(offset) + " lies outside tensor " + key +
                                                     " of shape " + shape_string(t->global_shape));
  msw_read_args a{};
  a.struct_size = sizeof(a);
  a.key = key.c_str();
  a.offset = offset.data();
  a.out = out;
  throw_if_error(vt_.read_region(reader_, &a), format_ + " checkpoint " + dir_.string() + ": reading " + key);
}

// ------------------------------------------------------------------------------------------------ format

CheckpointFormat::CheckpointFormat(const LoadedComponent& component, const std::string& config_json)
    : name_(component.name), vt_(PluginRegistry::vtable_copy<msw_checkpoint_vtable>(component)) {
  if (const char* missing = msw_checkpoint_vtable_missing_required(&vt_))
    throw HostError(MSW_STATUS_INVALID_ARGUMENT, "checkpoint plugin " + name_ + " lacks the required entry " + missing);
  throw_if_error(vt_.create(config_json.c_str(), &self_), "checkpoint plugin " + name_ + ": create");
}

CheckpointFormat::~CheckpointFormat() {
  if (self_) vt_.destroy(self_);
}

CheckpointFormat::CheckpointFormat(CheckpointFormat&& o) noexcept
    : name_(std::move(o.name_)), vt_(o.vt_), self_(o.self_) {
  o.self_ = nullptr;
}

int32_t CheckpointFormat::probe(const std::filesystem::path& dir) const {
  if (!vt_.probe) return 0;
  return std::clamp(vt_.probe(self_, dir.c_str()), 0, 100);
}

std::unique_ptr<CheckpointReader> CheckpointFormat::open(const std::filesystem::path& dir, int32_t rank,
                                                         int32_t world_size, msw_comm* comm) const {
  const std::string d = dir.string();
  msw_open_args a{};
  a.struct_size = sizeof(a);
  a.dir = d.c_str();
  a.rank = rank;
  a.world_size = world_size;
  a.comm = comm;
  void* reader = nullptr;
  throw_if_error(vt_.open(self_, &a, &reader), name_ + " checkpoint " + d);
  return std::make_unique<CheckpointReader>(name_, vt_, reader, dir);
}

msw_save_args CheckpointFormat::save_args(const std::string& dir, const std::string& common_json, int32_t rank,
                                          int32_t world_size, msw_comm* comm) {
  msw_save_args a{};
  a.struct_size = sizeof(a);
  a.dir = dir.c_str();
  a.common_state_json = common_json.c_str();
  a.rank = rank;
  a.world_size = world_size;
  a.coordinator_rank = 0;
  a.async = 0;
  a.comm = comm;
  return a;
}

CheckpointFormat::Writer::Writer(const CheckpointFormat& format, const msw_save_args& args) : format_(format) {
  throw_if_error(format_.vt_.begin_save(format_.self_, &args, &writer_),
                 format_.name_ + " checkpoint " + args.dir + ": begin_save (rank " + std::to_string(args.rank) + ")");
}

CheckpointFormat::Writer::~Writer() {
  if (!writer_) return;
  // An abandoned save: the plugin frees its writer; the failure that brought us here is what gets reported.
  if (msw_status* s = format_.vt_.finish_save(writer_)) {
    try {
      throw_if_error(s, "");
    } catch (...) {
    }
  }
}

void CheckpointFormat::Writer::write(std::span<const TensorShard> shards) {
  std::vector<msw_shard> records;
  records.reserve(shards.size());
  for (const auto& s : shards) records.push_back(to_record(s));
  throw_if_error(format_.vt_.write_shards(writer_, records.data(), records.size(), sizeof(msw_shard)),
                 format_.name_ + " checkpoint: writing " + (shards.empty() ? std::string("nothing") : shards.front().key));
}

void CheckpointFormat::Writer::finish() {
  void* w = writer_;
  writer_ = nullptr;
  throw_if_error(format_.vt_.finish_save(w), format_.name_ + " checkpoint: finish_save");
}

void CheckpointFormat::commit(const msw_save_args& args) const {
  throw_if_error(vt_.commit_save(self_, &args),
                 name_ + " checkpoint " + args.dir + ": commit_save (rank " + std::to_string(args.rank) + ")");
}

void CheckpointFormat::save_simulated_ranks(const std::filesystem::path& dir, const std::string& common_json,
                                            const std::vector<std::vector<TensorShard>>& ranks) const {
  const std::string d = dir.string();
  const auto world = static_cast<int32_t>(ranks.size());
  for (int32_t r = 0; r < world; ++r) {
    const msw_save_args a = save_args(d, common_json, r, world);
    Writer w(*this, a);
    w.write(ranks[static_cast<size_t>(r)]);
    w.finish();
  }
  for (int32_t r = 0; r < world; ++r) commit(save_args(d, common_json, r, world));
}

}  // namespace megaswift::host

namespace megaswift::host {

TensorShard on_host(TensorShard shard, void* stream) {
  if (shard.data.device.type == MSW_DEVICE_CPU) return shard;
  auto bytes = std::make_shared<std::vector<unsigned char>>(static_cast<size_t>(msw_tensor_numel(&shard.data)) *
                                                            msw_dtype_size(shard.data.dtype));
  copy_to_host(shard.data.device, bytes->data(), static_cast<const char*>(shard.data.data) + shard.data.byte_offset,
               bytes->size(), stream, shard.key.c_str());
  shard.data.data = bytes->data();
  shard.data.byte_offset = 0;
  shard.data.device = {MSW_DEVICE_CPU, 0};
  shard.host_copy = std::move(bytes);
  return shard;
}

void read_into(const CheckpointReader& reader, const TensorShard& shard, void* stream) {
  if (shard.data.device.type == MSW_DEVICE_CPU) {
    reader.read_region(shard.key, shard.global_offset, shard.data);
    return;
  }
  std::vector<unsigned char> bytes(static_cast<size_t>(msw_tensor_numel(&shard.data)) * msw_dtype_size(shard.data.dtype));
  msw_tensor host = shard.data;
  host.data = bytes.data();
  host.byte_offset = 0;
  host.device = {MSW_DEVICE_CPU, 0};
  reader.read_region(shard.key, shard.global_offset, host);
  copy_to_device(shard.data.device, static_cast<char*>(shard.data.data) + shard.data.byte_offset, bytes.data(),
                 bytes.size(), stream, shard.key.c_str());
}

}  // namespace megaswift::host
