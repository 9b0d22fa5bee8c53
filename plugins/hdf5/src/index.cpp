// The index of an hdf5 checkpoint: built by scanning the rank files (at commit, or when a reader finds no
// index), validated, and kept as hdf5_index.json.
#include "hdf5_format.hpp"

#include <megaswift/ckpt/files.hpp>

#include <nlohmann/json.hpp>

#include <dirent.h>

#include <algorithm>

namespace megaswift::hdf5 {

using sdk::Error;
using Json = nlohmann::json;

namespace {

std::vector<std::string> h5_files(const std::string& dir) {
  std::vector<std::string> files;
  DIR* d = ::opendir(dir.c_str());
  if (!d) throw Error(MSW_STATUS_NOT_FOUND, "hdf5: cannot list " + dir + ": " + ckpt::errno_text());
  while (dirent* e = ::readdir(d)) {
    const std::string name = e->d_name;
    if (name.size() > 3 && name.compare(name.size() - 3, 3, ".h5") == 0 && ckpt::is_regular_file(dir + "/" + name))
      files.push_back(name);
  }
  ::closedir(d);
  std::sort(files.begin(), files.end());
  return files;
}

void scan_file(const std::string& dir, const std::string& name, Index& index) {
  const std::string path = dir + "/" + name;
  Handle file = open_file_readonly(path, "hdf5: cannot open " + path);
  if (H5Lexists(file.get(), kCommonDataset, H5P_DEFAULT) > 0) {
    if (!index.common_file.empty())
      throw Error(MSW_STATUS_INVALID_ARGUMENT, "hdf5: both " + index.common_file + " and " + name + " in " + dir +
                                                   " hold /" + kCommonDataset + "; exactly one file may");
    index.common_file = name;
  }
  if (H5Lexists(file.get(), kTensorsGroup, H5P_DEFAULT) <= 0) return;
  Handle tensors = check_group(H5Gopen2(file.get(), kTensorsGroup, H5P_DEFAULT), path + ": /tensors is not a group");
  for (const std::string& key : member_names(tensors.get(), path + ":/tensors")) {
    const std::string group_path = "/" + std::string(kTensorsGroup) + "/" + key;
    Handle group = check_group(H5Gopen2(tensors.get(), key.c_str(), H5P_DEFAULT),
                               path + ":" + group_path + " is not a group (one group per tensor key)");
    for (const std::string& ds : member_names(group.get(), path + ":" + group_path)) {
      const std::string where = path + ":" + group_path + "/" + ds;
      Handle dset = check_dataset(H5Dopen2(group.get(), ds.c_str(), H5P_DEFAULT), where + " is not a dataset");
      const std::string attr_key = read_string_attr(dset.get(), "key", where);
      if (attr_key != key)
        throw Error(MSW_STATUS_INVALID_ARGUMENT, where + ": attribute \"key\" is \"" + attr_key +
                                                     "\" but the dataset lies in the group of " + key);
      const std::string dtype_name = read_string_attr(dset.get(), "dtype", where);
      const int32_t dtype = dtype_from_name(dtype_name);
      if (dtype < 0)
        throw Error(MSW_STATUS_UNSUPPORTED, where + ": attribute \"dtype\" \"" + dtype_name +
                                                "\" is not a known dtype (float32, bfloat16, float16, int64, ...)");
      Handle type = check_type(H5Dget_type(dset.get()), "reading the type of " + where);
      check_stored_type(type.get(), dtype, where);
      ShardRef ref{name, group_path + "/" + ds, read_i64_attr(dset.get(), "global_offset", where),
                   dataset_dims(dset.get(), where)};
      const Dims global = read_i64_attr(dset.get(), "global_shape", where);
      if (global.size() != ref.shape.size() || ref.offset.size() != ref.shape.size())
        throw Error(MSW_STATUS_INVALID_ARGUMENT, where + ": global_shape " + ckpt::dims_string(global) +
                                                     ", global_offset " + ckpt::dims_string(ref.offset) +
                                                     " and the dataset's shape " + ckpt::dims_string(ref.shape) +
                                                     " must have the same number of dimensions");
      auto [it, fresh] = index.tensors.try_emplace(key, TensorEntry{dtype, global, {}});
      if (!fresh && (it->second.dtype != dtype || it->second.global_shape != global))
        throw Error(MSW_STATUS_SHAPE_MISMATCH, where + ": " + key + " is " + dtype_name + " " +
                                                   ckpt::dims_string(global) + " here but " +
                                                   sdk::dtype_name(it->second.dtype) + " " +
                                                   ckpt::dims_string(it->second.global_shape) + " in another shard");
      it->second.shards.push_back(std::move(ref));
    }
  }
}

Dims dims_field(const Json& j, const char* name, const std::string& where) {
  if (!j.contains(name) || !j[name].is_array() || j[name].size() > MSW_MAX_DIMS)
    throw Error(MSW_STATUS_INVALID_ARGUMENT, where + ": \"" + name + "\" must be a list of at most " +
                                                 std::to_string(MSW_MAX_DIMS) + " integers");
  Dims d;
  for (const Json& v : j[name]) {
    if (!v.is_number_integer() || v.get<int64_t>() < 0)
      throw Error(MSW_STATUS_INVALID_ARGUMENT, where + ": \"" + name + "\" must hold non-negative integers");
    d.push_back(v.get<int64_t>());
  }
  return d;
}

std::string string_field(const Json& j, const char* name, const std::string& where) {
  if (!j.contains(name) || !j[name].is_string())
    throw Error(MSW_STATUS_INVALID_ARGUMENT, where + ": \"" + name + "\" must be a string");
  return j[name].get<std::string>();
}

}  // namespace

Index scan_files(const std::string& dir) {
  Index index;
  for (const std::string& f : h5_files(dir)) scan_file(dir, f, index);
  check_index(index, dir);
  return index;
}

void check_index(const Index& index, const std::string& where) {
  for (const auto& [key, t] : index.tensors) {
    const int64_t total = ckpt::checked_numel(t.global_shape, where + ": " + key);
    int64_t covered = 0;
    for (size_t i = 0; i < t.shards.size(); ++i) {
      const ShardRef& s = t.shards[i];
      if (s.offset.size() != t.global_shape.size() || s.shape.size() != t.global_shape.size())
        throw Error(MSW_STATUS_INVALID_ARGUMENT, where + ": a shard of " + key + " has the wrong number of dimensions");
      for (size_t d = 0; d < s.shape.size(); ++d)
        if (s.offset[d] < 0 || s.shape[d] < 0 || s.offset[d] > t.global_shape[d] ||
            s.shape[d] > t.global_shape[d] - s.offset[d])
          throw Error(MSW_STATUS_SHAPE_MISMATCH, where + ": the shard " + s.file + ":" + s.dataset + " " +
                                                     ckpt::dims_string(s.shape) + " at " + ckpt::dims_string(s.offset) +
                                                     " lies outside " + key + " " + ckpt::dims_string(t.global_shape));
      for (size_t j = 0; j < i; ++j) {
        Dims lo, box;
        if (ckpt::checked_numel(s.shape, key) > 0 && ckpt::checked_numel(t.shards[j].shape, key) > 0 &&
            ckpt::intersect(s.offset, s.shape, t.shards[j].offset, t.shards[j].shape, lo, box))
          throw Error(MSW_STATUS_INVALID_ARGUMENT, where + ": the shards " + s.file + ":" + s.dataset + " and " +
                                                       t.shards[j].file + ":" + t.shards[j].dataset + " of " + key +
                                                       " overlap at " + ckpt::dims_string(lo));
      }
      covered += ckpt::checked_numel(s.shape, key);
    }
    // Disjoint shards inside the tensor cover it exactly when their sizes add up to its size.
    if (covered != total)
      throw Error(MSW_STATUS_NOT_FOUND, where + ": the shards of " + key + " cover " + std::to_string(covered) +
                                            " of its " + std::to_string(total) + " elements (a rank's part is missing)");
  }
}

std::string index_json(const Index& index) {
  Json tensors = Json::object();
  for (const auto& [key, t] : index.tensors) {
    Json shards = Json::array();
    for (const ShardRef& s : t.shards)
      shards.push_back({{"file", s.file}, {"dataset", s.dataset}, {"offset", s.offset}, {"shape", s.shape}});
    tensors[key] = {{"dtype", sdk::dtype_name(t.dtype)}, {"global_shape", t.global_shape}, {"shards", shards}};
  }
  Json j = {{"format", kFormatName}, {"version", 1}, {"tensors", tensors}};
  j["common_state"] = index.common_file.empty() ? Json(nullptr)
                                                : Json{{"file", index.common_file}, {"dataset", std::string("/") + kCommonDataset}};
  return j.dump(1);
}

Index parse_index_json(const std::string& text, const std::string& path);

Index parse_index(const std::string& text, const std::string& path) {
  try {
    return parse_index_json(text, path);
  } catch (const nlohmann::json::exception& e) {
    throw Error(MSW_STATUS_INVALID_ARGUMENT, path + ": a field has the wrong type: " + e.what());
  }
}

Index parse_index_json(const std::string& text, const std::string& path) {
  Json j;
  try {
    j = Json::parse(text);
  } catch (const std::exception& e) {
    throw Error(MSW_STATUS_INVALID_ARGUMENT, path + " is not valid JSON: " + e.what());
  }
  if (!j.is_object() || j.value("format", "") != kFormatName)
    throw Error(MSW_STATUS_INVALID_ARGUMENT, path + ": \"format\" must be \"" + kFormatName + "\"");
  if (j.value("version", 0) != 1)
    throw Error(MSW_STATUS_VERSION_MISMATCH, path + ": \"version\" " + j.value("version", Json()).dump() +
                                                 " is not 1, the only version this plugin reads");
  if (!j.contains("tensors") || !j["tensors"].is_object())
    throw Error(MSW_STATUS_INVALID_ARGUMENT, path + ": \"tensors\" must be an object");
  Index index;
  if (j.contains("common_state") && !j["common_state"].is_null())
  {
    index.common_file = string_field(j["common_state"], "file", path + ": common_state");
    if (index.common_file.find('/') != std::string::npos || index.common_file == "..")
      throw Error(MSW_STATUS_INVALID_ARGUMENT, path + ": common_state file \"" + index.common_file +
                                                   "\" must name a file of the checkpoint directory");
  }
  for (const auto& [key, t] : j["tensors"].items()) {
    const std::string where = path + ": tensor " + key;
    if (!t.is_object()) throw Error(MSW_STATUS_INVALID_ARGUMENT, where + " must be an object");
    TensorEntry e;
    e.dtype = dtype_from_name(string_field(t, "dtype", where));
    if (e.dtype < 0) throw Error(MSW_STATUS_UNSUPPORTED, where + ": unknown \"dtype\" " + t["dtype"].dump());
    e.global_shape = dims_field(t, "global_shape", where);
    if (!t.contains("shards") || !t["shards"].is_array())
      throw Error(MSW_STATUS_INVALID_ARGUMENT, where + ": \"shards\" must be a list");
    for (const Json& s : t["shards"]) {
      if (!s.is_object()) throw Error(MSW_STATUS_INVALID_ARGUMENT, where + ": every shard must be an object");
      ShardRef r{string_field(s, "file", where), string_field(s, "dataset", where), dims_field(s, "offset", where),
                 dims_field(s, "shape", where)};
      if (r.file.find('/') != std::string::npos || r.file == "..")
        throw Error(MSW_STATUS_INVALID_ARGUMENT, where + ": shard file \"" + r.file + "\" must name a file of the checkpoint directory");
      e.shards.push_back(std::move(r));
    }
    index.tensors.emplace(key, std::move(e));
  }
  check_index(index, path);
  return index;
}

}  // namespace megaswift::hdf5
