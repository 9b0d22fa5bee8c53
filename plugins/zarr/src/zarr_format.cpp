#include "zarr_format.hpp"

#include <megaswift/ckpt/files.hpp>

#include <nlohmann/json.hpp>

#include <dirent.h>

#include <algorithm>

namespace megaswift::zarr {

using sdk::Error;
using Json = nlohmann::json;

ZarrFormat::ZarrFormat(std::string_view config_json) { (void)config_json; }

std::vector<std::string> array_keys(const std::string& dir) {
  std::vector<std::string> keys;
  DIR* d = ::opendir(dir.c_str());
  if (!d) throw Error(MSW_STATUS_NOT_FOUND, "cannot list the checkpoint directory " + dir + ": " + ckpt::errno_text());
  while (dirent* e = ::readdir(d)) {
    const std::string name = e->d_name;
    if (name == "." || name == "..") continue;
    if (name.size() >= 5 && name.compare(name.size() - 5, 5, ".sync") == 0) continue;
    if (ckpt::is_regular_file(dir + "/" + name + "/.zarray")) keys.push_back(name);
  }
  ::closedir(d);
  std::sort(keys.begin(), keys.end());
  return keys;
}

int32_t ZarrFormat::probe(const std::string& dir) {
  if (!ckpt::is_directory(dir)) return 0;
  const std::string meta = dir + "/" + kMetadataFile;
  if (ckpt::is_regular_file(meta)) {
    try {
      const Json j = Json::parse(ckpt::read_text_file(meta, kMaxMetadataBytes));
      if (j.is_object() && j.value("sharded_backend", "") == "zarr") return 100;
    } catch (const std::exception&) {
    }
    return 0;  // another backend's (or a broken) metadata.json: not ours
  }
  // No metadata.json: a bare set of zarr arrays (written by zarr-python) is still readable.
  return array_keys(dir).empty() ? 0 : 60;
}

std::unique_ptr<sdk::CheckpointWriter> ZarrFormat::begin_save(const sdk::SaveArgs& args) {
  ckpt::require_directory(args.dir, "zarr begin_save");
  {
    std::lock_guard<std::mutex> lock(mutex_);
    pending_.erase(args.dir);
  }
  return make_writer(*this, args);
}

void ZarrFormat::remember(const std::string& dir, WrittenKeys keys) {
  std::lock_guard<std::mutex> lock(mutex_);
  WrittenKeys& all = pending_[dir];
  for (auto& [k, v] : keys) all[k] = std::move(v);
}

namespace {

// This rank's shards against the .zarray the offset-0 shard's writer created.
void check_own_keys(const std::string& dir, const WrittenKeys& keys, int32_t rank) {
  for (const auto& [key, w] : keys) {
    const std::string path = dir + "/" + key + "/.zarray";
    if (!ckpt::is_regular_file(path))
      throw Error(MSW_STATUS_NOT_FOUND, "zarr commit_save: " + path + " is missing: no rank wrote the shard of " +
                                            key + " at global offset 0 with replica_id 0, which creates the array");
    const ZArray z = parse_zarray(ckpt::read_text_file(path, kMaxMetadataBytes), path);
    if (z.dtype != w.dtype || z.shape != w.global_shape)
      throw Error(MSW_STATUS_SHAPE_MISMATCH, "zarr commit_save: rank " + std::to_string(rank) + " wrote " + key +
                                                 " as " + sdk::dtype_name(w.dtype) + " of global shape " +
                                                 ckpt::dims_string(w.global_shape) + " but " + path + " says " +
                                                 sdk::dtype_name(z.dtype) + " " + ckpt::dims_string(z.shape));
    if (z.chunks != w.shard_shape)
      throw Error(MSW_STATUS_SHAPE_MISMATCH,
                  "zarr commit_save: the shards of " + key + " have different shapes: rank " + std::to_string(rank) +
                      " wrote shards of " + ckpt::dims_string(w.shard_shape) + " but the shard at offset 0 is " +
                      ckpt::dims_string(z.chunks) +
                      "; the zarr format stores one chunk per shard and needs every shard of a tensor to have "
                      "the same shape (choose another --ckpt_format for uneven splits)");
  }
}

// Every chunk of every array exists with the size the .zarray implies (a missing shard is a rank that
// never wrote its part).
void check_complete(const std::string& dir) {
  for (const std::string& key : array_keys(dir)) {
    const std::string path = dir + "/" + key + "/.zarray";
    const ZArray z = parse_zarray(ckpt::read_text_file(path, kMaxMetadataBytes), path);
    if (ckpt::checked_numel(z.shape, path) == 0) continue;  // an empty tensor has no chunks
    Dims grid(z.shape.size());
    for (size_t d = 0; d < grid.size(); ++d) grid[d] = (z.shape[d] + z.chunks[d] - 1) / z.chunks[d];
    Dims idx(grid.size(), 0);
    while (true) {
      const std::string chunk = dir + "/" + key + "/" + z.chunk_key(idx);
      struct stat st{};
      if (::stat(chunk.c_str(), &st) != 0)
        throw Error(MSW_STATUS_NOT_FOUND, "zarr commit_save: the chunk " + chunk + " of " + key +
                                              " is missing: no rank wrote the shard at offset " +
                                              [&] {
                                                Dims off(idx.size());
                                                for (size_t d = 0; d < idx.size(); ++d) off[d] = idx[d] * z.chunks[d];
                                                return ckpt::dims_string(off);
                                              }());
      if (st.st_size != z.chunk_bytes)
        throw Error(MSW_STATUS_IO, "zarr commit_save: the chunk " + chunk + " has " + std::to_string(st.st_size) +
                                       " bytes, expected " + std::to_string(z.chunk_bytes));
      size_t d = idx.size();
      while (d > 0 && ++idx[d - 1] == grid[d - 1]) idx[--d] = 0;
      if (d == 0) break;
    }
  }
}

}  // namespace

void ZarrFormat::commit_save(const sdk::SaveArgs& args) {
  WrittenKeys mine;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    if (auto it = pending_.find(args.dir); it != pending_.end()) {
      mine = std::move(it->second);
      pending_.erase(it);
    }
  }
  check_own_keys(args.dir, mine, args.rank);
  if (!args.is_coordinator()) return;
  check_complete(args.dir);
  try {
    const Json parsed = Json::parse(args.common_state_json);
    (void)parsed;
  } catch (const std::exception& e) {
    throw Error(MSW_STATUS_INVALID_ARGUMENT, std::string("zarr commit_save: the common state is not valid JSON: ") + e.what());
  }
  ckpt::write_file_atomic(args.dir + "/" + kCommonFile, args.common_state_json);
  // Last, as Megatron: a directory is a Megatron checkpoint only once metadata.json exists.
  ckpt::write_file_atomic(args.dir + "/" + kMetadataFile,
                          R"({"sharded_backend": "zarr", "sharded_backend_version": 1})");
  ckpt::fsync_path(args.dir, true);
}

std::unique_ptr<sdk::CheckpointReader> ZarrFormat::open(const sdk::OpenArgs& args) { return make_reader(args); }

}  // namespace megaswift::zarr
