// One rank's zarr writer: a chunk file per shard, and the .zarray of every array whose offset-0 shard this
// rank holds (zarr_format.hpp explains why no collective is needed).
#include "zarr_format.hpp"

#include <megaswift/ckpt/files.hpp>

#include <cstring>

namespace megaswift::zarr {

using sdk::Error;

namespace {

// A key becomes a directory name: it must be one path component and not shadow our own files.
void check_key(const std::string& key) {
  auto refuse = [&](const std::string& why) {
    return Error(MSW_STATUS_INVALID_ARGUMENT, "zarr: the tensor key \"" + key + "\" " + why +
                                                  " (the zarr format names one directory per key)");
  };
  if (key.empty()) throw refuse("is empty");
  if (key.size() > 255) throw refuse("is longer than the 255 bytes a file name may have");
  if (key.find('/') != std::string::npos || key.find('\0') != std::string::npos) throw refuse("contains '/'");
  if (key[0] == '.') throw refuse("starts with '.'");
  if (key == kMetadataFile || key == kCommonFile) throw refuse("is the name of a file the format writes");
  if (key.size() >= 5 && key.compare(key.size() - 5, 5, ".sync") == 0)
    throw refuse("ends in \".sync\", which Megatron's loader skips");
}

class ZarrWriter : public sdk::CheckpointWriter {
 public:
  ZarrWriter(ZarrFormat& format, sdk::SaveArgs args) : format_(format), args_(std::move(args)) {}

  void write(const std::vector<sdk::Shard>& shards) override {
    for (const sdk::Shard& s : shards)
      if (s.replica_id == 0) write_one(s);
  }

  void finish() override {
    for (const auto& [key, w] : written_) ckpt::fsync_path(args_.dir + "/" + key, true);
    ckpt::fsync_path(args_.dir, true);
    format_.remember(args_.dir, std::move(written_));
  }

 private:
  void write_one(const sdk::Shard& s) {
    check_key(s.key);
    const char* dtype_text = zarr_dtype_text(s.data.dtype);
    if (!dtype_text)
      throw Error(MSW_STATUS_UNSUPPORTED, "zarr: " + s.key + " is " + sdk::dtype_name(s.data.dtype) +
                                              ", which zarr v2 (NumPy dtypes) cannot store; use torch_dist or safetensors");
    if (s.data.device.type != MSW_DEVICE_CPU)
      throw Error(MSW_STATUS_UNSUPPORTED, "zarr: the shard of " + s.key + " must be on the CPU");
    const Dims shape(s.data.shape, s.data.shape + s.data.ndim);
    // One chunk per shard: the shard must tile the tensor (Megatron refuses the same uneven splits).
    Dims chunk_shape = shape, grid_index(shape.size());
    bool at_origin = true;
    for (size_t d = 0; d < shape.size(); ++d) {
      if (s.global_shape[d] == 0) {
        chunk_shape[d] = 1;  // zarr chunks are at least 1; an empty tensor has no chunk files
        continue;
      }
      if (shape[d] == 0 || s.global_shape[d] % shape[d] != 0 || s.global_offset[d] % shape[d] != 0)
        throw Error(MSW_STATUS_SHAPE_MISMATCH,
                    "zarr: the shard of " + s.key + " " + ckpt::dims_string(shape) + " at offset " +
                        ckpt::dims_string(s.global_offset) + " does not tile the global shape " +
                        ckpt::dims_string(s.global_shape) + " along dimension " + std::to_string(d) +
                        "; zarr stores one chunk per shard, so every shard of a tensor must have the same shape "
                        "and that shape must divide the global shape");
      grid_index[d] = s.global_offset[d] / shape[d];
      at_origin = at_origin && s.global_offset[d] == 0;
    }
    auto [it, fresh] = written_.try_emplace(s.key, WrittenKey{s.data.dtype, s.global_shape, chunk_shape});
    if (!fresh && (it->second.dtype != s.data.dtype || it->second.global_shape != s.global_shape ||
                   it->second.shard_shape != chunk_shape))
      throw Error(MSW_STATUS_SHAPE_MISMATCH, "zarr: two shards of " + s.key + " on rank " + std::to_string(args_.rank) +
                                                 " disagree on dtype, global shape or shard shape");

    const std::string array_dir = args_.dir + "/" + s.key;
    ckpt::make_directory(array_dir);
    if (at_origin) {
      const std::string text = zarray_text(s.global_shape, chunk_shape, s.data.dtype);
      ckpt::write_new_file(array_dir + "/.zarray", text.data(), text.size(), [&] {
        throw Error(MSW_STATUS_INVALID_ARGUMENT, "zarr: " + array_dir + "/.zarray exists already: two shards of " +
                                                     s.key + " at offset 0 have replica_id 0");
      });
    }
    if (ckpt::checked_numel(s.global_shape, s.key) == 0) return;

    ZArray grid;  // only for the chunk name
    const std::string chunk = array_dir + "/" + grid.chunk_key(grid_index);
    const size_t bytes = static_cast<size_t>(ckpt::checked_bytes(shape, msw_dtype_size(s.data.dtype), s.key));
    std::vector<char> gathered;
    const char* data = ckpt::tensor_bytes(s.data);
    if (!msw_tensor_is_contiguous(&s.data)) {
      gathered = ckpt::gather_strided(s.data, shape);
      data = gathered.data();
    }
    ckpt::write_new_file(chunk, data, bytes, [&] {
      throw Error(MSW_STATUS_INVALID_ARGUMENT, "zarr: " + chunk + " exists already: two shards of " + s.key +
                                                   " at offset " + ckpt::dims_string(s.global_offset) +
                                                   " have replica_id 0");
    });
  }

  ZarrFormat& format_;
  sdk::SaveArgs args_;
  WrittenKeys written_;
};

}  // namespace

std::unique_ptr<sdk::CheckpointWriter> make_writer(ZarrFormat& format, const sdk::SaveArgs& args) {
  return std::make_unique<ZarrWriter>(format, args);
}

}  // namespace megaswift::zarr
