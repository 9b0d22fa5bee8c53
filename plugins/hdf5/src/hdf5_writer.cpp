// One rank's hdf5 writer: rank_<r>.h5 with a dataset per shard (hdf5_format.hpp).
#include "hdf5_format.hpp"

#include <megaswift/ckpt/files.hpp>

#include <nlohmann/json.hpp>

namespace megaswift::hdf5 {

using sdk::Error;

namespace {

void check_key(const std::string& key) {
  if (key.empty() || key == "." || key == ".." || key.find('/') != std::string::npos)
    throw Error(MSW_STATUS_INVALID_ARGUMENT, "hdf5: the tensor key \"" + key +
                                                 "\" must be non-empty, not \".\" or \"..\", and without '/' "
                                                 "(it names an HDF5 group)");
}

std::string shard_name(const Dims& offset) {
  std::string name = "shard";
  for (int64_t o : offset) name += "_" + std::to_string(o);
  return name;
}

class Hdf5Writer : public sdk::CheckpointWriter {
 public:
  explicit Hdf5Writer(const sdk::SaveArgs& args)
      : args_(args), name_("rank_" + std::to_string(args.rank) + ".h5"), path_(args.dir + "/" + name_) {
    Silence quiet;
    // The HDF5 1.8 file format (superblock v2, object headers v2) checksums every piece of metadata, so
    // libhdf5 refuses a damaged header instead of parsing it (1.10's parser overruns buffers on some
    // damaged v1 headers: found by the fuzz case under ASan); every HDF5 >= 1.8 and h5py read it.
    Handle fapl = check_plist(H5Pcreate(H5P_FILE_ACCESS), "hdf5: creating a file access list");
    check_call(H5Pset_libver_bounds(fapl.get(), H5F_LIBVER_V18, H5F_LIBVER_V18), "hdf5: choosing the 1.8 file format");
    file_ = check_file(H5Fcreate(path_.c_str(), H5F_ACC_EXCL, H5P_DEFAULT, fapl.get()),
                       "hdf5: cannot create " + path_ + " (it must not exist yet)");
    write_string_attr(file_.get(), "format", kFormatName, path_);
    write_i64_attr(file_.get(), "format_version", {1}, path_);
    write_i64_attr(file_.get(), "rank", {args.rank}, path_);
    tensors_ = check_group(H5Gcreate2(file_.get(), kTensorsGroup, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT),
                           "hdf5: creating /tensors in " + path_);
    if (args.is_coordinator()) {
      try {
        const nlohmann::json parsed = nlohmann::json::parse(args.common_state_json);
        (void)parsed;
      } catch (const std::exception& e) {
        throw Error(MSW_STATUS_INVALID_ARGUMENT, std::string("hdf5 begin_save: the common state is not valid JSON: ") + e.what());
      }
      write_string_dataset(file_.get(), kCommonDataset, args.common_state_json, path_);
    }
  }

  void write(const std::vector<sdk::Shard>& shards) override {
    Silence quiet;
    for (const sdk::Shard& s : shards)
      if (s.replica_id == 0) write_one(s);
  }

  void finish() override {
    Silence quiet;
    tensors_.reset();
    check_call(H5Fflush(file_.get(), H5F_SCOPE_GLOBAL), "hdf5: flushing " + path_);
    if (H5Fclose(file_.release()) < 0) fail(MSW_STATUS_IO, "hdf5: closing " + path_);
    ckpt::fsync_path(path_, false);
    ckpt::fsync_path(args_.dir, true);
  }

  ~Hdf5Writer() override {
    Silence quiet;
    tensors_.reset();
    file_.reset();
  }

 private:
  void write_one(const sdk::Shard& s) {
    check_key(s.key);
    if (s.data.device.type != MSW_DEVICE_CPU)
      throw Error(MSW_STATUS_UNSUPPORTED, "hdf5: the shard of " + s.key + " must be on the CPU");
    const Dims shape(s.data.shape, s.data.shape + s.data.ndim);
    const std::string where = path_ + ":/tensors/" + s.key;
    if (H5Lexists(tensors_.get(), s.key.c_str(), H5P_DEFAULT) <= 0)
      check_group(H5Gcreate2(tensors_.get(), s.key.c_str(), H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT),
                  "hdf5: creating the group " + where);
    Handle group = check_group(H5Gopen2(tensors_.get(), s.key.c_str(), H5P_DEFAULT), "hdf5: opening " + where);
    const std::string name = shard_name(s.global_offset);
    if (H5Lexists(group.get(), name.c_str(), H5P_DEFAULT) > 0)
      throw Error(MSW_STATUS_INVALID_ARGUMENT, "hdf5: " + where + "/" + name + " exists already: two shards of " +
                                                   s.key + " at offset " + ckpt::dims_string(s.global_offset));
    std::vector<hsize_t> dims(shape.begin(), shape.end());
    Handle space = check_space(shape.empty() ? H5Screate(H5S_SCALAR)
                                             : H5Screate_simple(static_cast<int>(dims.size()), dims.data(), nullptr),
                               "hdf5: creating the dataspace of " + where);
    Handle type = file_type(s.data.dtype);
    Handle dset = check_dataset(H5Dcreate2(group.get(), name.c_str(), type.get(), space.get(), H5P_DEFAULT,
                                           H5P_DEFAULT, H5P_DEFAULT),
                                "hdf5: creating the dataset " + where + "/" + name);
    write_string_attr(dset.get(), "key", s.key, where);
    write_i64_attr(dset.get(), "global_shape", s.global_shape, where);
    write_i64_attr(dset.get(), "global_offset", s.global_offset, where);
    write_string_attr(dset.get(), "dtype", sdk::dtype_name(s.data.dtype), where);
    if (ckpt::checked_numel(shape, s.key) == 0) return;
    std::vector<char> gathered;
    const void* data = ckpt::tensor_bytes(s.data);
    if (!msw_tensor_is_contiguous(&s.data)) {
      gathered = ckpt::gather_strided(s.data, shape);
      data = gathered.data();
    }
    Handle mem = memory_type(s.data.dtype);
    check_call(H5Dwrite(dset.get(), mem.get(), H5S_ALL, H5S_ALL, H5P_DEFAULT, data),
               "hdf5: writing " + where + "/" + name);
  }

  sdk::SaveArgs args_;
  std::string name_, path_;
  Handle file_, tensors_;
};

}  // namespace

std::unique_ptr<sdk::CheckpointWriter> make_writer(const sdk::SaveArgs& args) {
  return std::make_unique<Hdf5Writer>(args);
}

}  // namespace megaswift::hdf5
