// Reads an hdf5 checkpoint through its index (or a scan of its *.h5 files): any region of any tensor,
// gathered from every shard it overlaps; each dataset's shape and type are checked against the index
// before a byte is read.
#include "hdf5_format.hpp"

#include <megaswift/ckpt/files.hpp>

#include <nlohmann/json.hpp>

#include <cstdlib>

namespace megaswift::hdf5 {

using sdk::Error;

namespace {

// MEGASWIFT_HDF5_METADATA_SECONDS: how long the metadata reads of a checkpoint may take (isolated_scan); more for
// checkpoints of many files on a slow file system.
double metadata_seconds() {
  const char* env = std::getenv("MEGASWIFT_HDF5_METADATA_SECONDS");
  if (!env || !*env) return kIsolatedScanSeconds;
  char* end = nullptr;
  const double v = std::strtod(env, &end);
  if (*end != '\0' || !(v > 0) || v > 1e6)
    throw Error(MSW_STATUS_INVALID_ARGUMENT, std::string("MEGASWIFT_HDF5_METADATA_SECONDS='") + env +
                                                 "': expected a number of seconds above 0 (default " +
                                                 std::to_string(static_cast<int>(kIsolatedScanSeconds)) + ")");
  return v;
}

class Hdf5Reader : public sdk::CheckpointReader {
 public:
  explicit Hdf5Reader(const sdk::OpenArgs& args) : dir_(args.dir) {
    Silence quiet;
    ckpt::require_directory(dir_, "hdf5 open");
    isolated_scan(dir_, metadata_seconds());  // a file making libhdf5 loop or crash is refused before we read it
    const std::string index_path = dir_ + "/" + kIndexFile;
    index_ = ckpt::is_regular_file(index_path) ? parse_index(ckpt::read_text_file(index_path, 256u << 20), index_path)
                                               : scan_files(dir_);
    for (const auto& [key, t] : index_.tensors) keys_.push_back(key);
  }

  ~Hdf5Reader() override {
    Silence quiet;
    files_.clear();
  }

  std::string common_state_json() const override {
    Silence quiet;
    if (index_.common_file.empty())
      throw Error(MSW_STATUS_NOT_FOUND, "hdf5: no file of " + dir_ + " holds /" + kCommonDataset +
                                            " (the coordinator's rank file keeps the common state)");
    const std::string where = dir_ + "/" + index_.common_file;
    std::string text = read_string_dataset(file(index_.common_file), kCommonDataset, where);
    try {
      const nlohmann::json parsed = nlohmann::json::parse(text);
      (void)parsed;
    } catch (const std::exception& e) {
      throw Error(MSW_STATUS_INVALID_ARGUMENT, where + ":/" + kCommonDataset + " is not valid JSON: " + e.what());
    }
    return text;
  }

  size_t tensor_count() const override { return keys_.size(); }

  sdk::TensorInfo tensor_info(size_t index) const override {
    const std::string& key = keys_.at(index);
    const TensorEntry& t = index_.tensors.at(key);
    return {key, t.dtype, t.global_shape};
  }

  void read_region(const std::string& key, const Dims& offset, const msw_tensor& out) override {
    Silence quiet;
    auto it = index_.tensors.find(key);
    if (it == index_.tensors.end()) throw Error(MSW_STATUS_NOT_FOUND, "hdf5: " + dir_ + " has no tensor " + key);
    const TensorEntry& t = it->second;
    const Dims shape = ckpt::check_region(key, t.global_shape, offset, out);
    ckpt::require_convertible(t.dtype, out.dtype, key);
    if (ckpt::checked_numel(shape, key) == 0) return;
    for (const ShardRef& s : t.shards) {
      Dims lo, box;
      if (s.shape.empty()) {  // a 0-d tensor: its one shard is the whole region
        read_part(key, t, s, lo, box, offset, shape, out);
        continue;
      }
      if (ckpt::intersect(s.offset, s.shape, offset, shape, lo, box)) read_part(key, t, s, lo, box, offset, shape, out);
    }
  }

 private:
  hid_t file(const std::string& name) const {
    auto it = files_.find(name);
    if (it != files_.end()) return it->second.get();
    const std::string path = dir_ + "/" + name;
    if (!ckpt::is_regular_file(path)) throw Error(MSW_STATUS_NOT_FOUND, "hdf5: " + path + " is missing");
    Handle f = open_file_readonly(path,
                          "hdf5: cannot open " + path + " (not an HDF5 file, or damaged)");
    return files_.emplace(name, std::move(f)).first->second.get();
  }

  void read_part(const std::string& key, const TensorEntry& t, const ShardRef& s, const Dims& lo, const Dims& box,
                 const Dims& offset, const Dims& shape, const msw_tensor& out) {
    const std::string where = dir_ + "/" + s.file + ":" + s.dataset;
    const hid_t f = file(s.file);
    if (H5Lexists(f, s.dataset.c_str(), H5P_DEFAULT) <= 0)  // the parents exist: the scan or index named them
      throw Error(MSW_STATUS_NOT_FOUND, "hdf5: " + where + " is missing (the index lists it for " + key + ")");
    Handle dset = check_dataset(H5Dopen2(f, s.dataset.c_str(), H5P_DEFAULT), "hdf5: cannot open the dataset " + where);
    const Dims dims = dataset_dims(dset.get(), where);
    if (dims != s.shape)
      throw Error(MSW_STATUS_SHAPE_MISMATCH, "hdf5: " + where + " has shape " + ckpt::dims_string(dims) +
                                                 " but the index says " + ckpt::dims_string(s.shape));
    Handle type = check_type(H5Dget_type(dset.get()), "hdf5: reading the type of " + where);
    check_stored_type(type.get(), t.dtype, where);
    Handle mem = memory_type(t.dtype);
    if (s.shape.empty()) {
      std::vector<char> one(msw_dtype_size(t.dtype));
      check_call(H5Dread(dset.get(), mem.get(), H5S_ALL, H5S_ALL, H5P_DEFAULT, one.data()), "hdf5: reading " + where);
      ckpt::convert(one.data(), t.dtype, ckpt::tensor_bytes(out), out.dtype, 1);
      return;
    }
    const size_t nd = box.size();
    std::vector<hsize_t> file_start(nd), out_start(nd), count(nd), out_dims(nd), box_dims(nd);
    for (size_t d = 0; d < nd; ++d) {
      file_start[d] = static_cast<hsize_t>(lo[d] - s.offset[d]);
      out_start[d] = static_cast<hsize_t>(lo[d] - offset[d]);
      count[d] = box_dims[d] = static_cast<hsize_t>(box[d]);
      out_dims[d] = static_cast<hsize_t>(shape[d]);
    }
    Handle fspace = check_space(H5Dget_space(dset.get()), "hdf5: reading the dataspace of " + where);
    check_call(H5Sselect_hyperslab(fspace.get(), H5S_SELECT_SET, file_start.data(), nullptr, count.data(), nullptr),
               "hdf5: selecting a region of " + where);
    if (out.dtype == t.dtype) {
      // HDF5 scatters the box straight into the caller's tensor.
      Handle mspace = check_space(H5Screate_simple(static_cast<int>(nd), out_dims.data(), nullptr), "hdf5: dataspace");
      check_call(H5Sselect_hyperslab(mspace.get(), H5S_SELECT_SET, out_start.data(), nullptr, count.data(), nullptr),
                 "hdf5: selecting a region of the output");
      check_call(H5Dread(dset.get(), mem.get(), mspace.get(), fspace.get(), H5P_DEFAULT, ckpt::tensor_bytes(out)),
                 "hdf5: reading " + where);
      return;
    }
    buffer_.resize(static_cast<size_t>(ckpt::checked_bytes(box, msw_dtype_size(t.dtype), where)));
    Handle mspace = check_space(H5Screate_simple(static_cast<int>(nd), box_dims.data(), nullptr), "hdf5: dataspace");
    check_call(H5Dread(dset.get(), mem.get(), mspace.get(), fspace.get(), H5P_DEFAULT, buffer_.data()),
               "hdf5: reading " + where);
    const Dims zero(nd, 0);
    Dims in_out(nd);
    for (size_t d = 0; d < nd; ++d) in_out[d] = lo[d] - offset[d];
    ckpt::copy_box(buffer_.data(), box, zero, t.dtype, ckpt::tensor_bytes(out), shape, in_out, out.dtype, box);
  }

  std::string dir_;
  Index index_;
  std::vector<std::string> keys_;
  mutable std::map<std::string, Handle> files_;
  std::vector<char> buffer_;
};

}  // namespace

std::unique_ptr<sdk::CheckpointReader> make_reader(const sdk::OpenArgs& args) {
  return std::make_unique<Hdf5Reader>(args);
}

}  // namespace megaswift::hdf5
