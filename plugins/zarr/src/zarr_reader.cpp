// Reads zarr v2 arrays written by Megatron or zarr-python: every .zarray is validated at open; a region read
// visits the chunks it overlaps, checks each chunk file's size before using a byte, and fills absent chunks
// with fill_value (absent chunks with fill_value null are an error: the region would be undefined).
#include "zarr_format.hpp"

#include <megaswift/ckpt/files.hpp>

#include <nlohmann/json.hpp>

#include <sys/stat.h>

namespace megaswift::zarr {

using sdk::Error;

namespace {

struct Array {
  std::string key;
  std::string dir;
  ZArray meta;
};

class ZarrReader : public sdk::CheckpointReader {
 public:
  explicit ZarrReader(const sdk::OpenArgs& args) : dir_(args.dir) {
    ckpt::require_directory(dir_, "zarr open");
    for (const std::string& key : array_keys(dir_)) {
      const std::string path = dir_ + "/" + key + "/.zarray";
      arrays_.push_back({key, dir_ + "/" + key, parse_zarray(ckpt::read_text_file(path, kMaxMetadataBytes), path)});
    }
  }

  std::string common_state_json() const override {
    const std::string path = dir_ + "/" + kCommonFile;
    if (!ckpt::is_regular_file(path)) {
      if (ckpt::path_exists(dir_ + "/common.pt"))
        throw Error(MSW_STATUS_UNSUPPORTED,
                    "zarr: " + dir_ + " keeps its common state in common.pt (written by Megatron with torch.save); "
                    "the zarr plugin reads only the common_state.json that Megaswift writes. Its tensors are "
                    "readable; convert the checkpoint with Megatron to torch_dist to keep the common state");
      throw Error(MSW_STATUS_NOT_FOUND, "zarr: " + path + " is missing (the coordinator writes it in commit_save)");
    }
    std::string text = ckpt::read_text_file(path, kMaxMetadataBytes);
    try {
      const nlohmann::json parsed = nlohmann::json::parse(text);
      (void)parsed;
    } catch (const std::exception& e) {
      throw Error(MSW_STATUS_INVALID_ARGUMENT, path + " is not valid JSON: " + e.what());
    }
    return text;
  }

  size_t tensor_count() const override { return arrays_.size(); }

  sdk::TensorInfo tensor_info(size_t index) const override {
    const Array& a = arrays_.at(index);
    return {a.key, a.meta.dtype, a.meta.shape};
  }

  void read_region(const std::string& key, const Dims& offset, const msw_tensor& out) override {
    const Array& a = find(key);
    const ZArray& z = a.meta;
    const Dims shape = ckpt::check_region(key, z.shape, offset, out);
    ckpt::require_convertible(z.dtype, out.dtype, key);
    if (ckpt::checked_numel(shape, key) == 0) return;
    const size_t nd = shape.size();
    Dims first(nd), last(nd);
    for (size_t d = 0; d < nd; ++d) {
      first[d] = offset[d] / z.chunks[d];
      last[d] = (offset[d] + shape[d] - 1) / z.chunks[d];
    }
    Dims idx = first, origin(nd), lo, box;
    while (true) {
      for (size_t d = 0; d < nd; ++d) origin[d] = idx[d] * z.chunks[d];
      ckpt::intersect(origin, z.chunks, offset, shape, lo, box);
      read_chunk(a, idx, origin, lo, box, offset, shape, out);
      size_t d = nd;
      while (d > 0 && ++idx[d - 1] > last[d - 1]) {
        idx[d - 1] = first[d - 1];
        --d;
      }
      if (d == 0) break;
    }
  }

 private:
  const Array& find(const std::string& key) const {
    for (const Array& a : arrays_)
      if (a.key == key) return a;
    throw Error(MSW_STATUS_NOT_FOUND, "zarr: " + dir_ + " has no array " + key);
  }

  // Copies the part `lo`/`box` (global coordinates) of chunk `idx` into the region `offset`/`shape` of out.
  void read_chunk(const Array& a, const Dims& idx, const Dims& origin, const Dims& lo, const Dims& box,
                  const Dims& offset, const Dims& shape, const msw_tensor& out) {
    const ZArray& z = a.meta;
    const size_t nd = idx.size();
    Dims in_chunk(nd), in_out(nd);
    for (size_t d = 0; d < nd; ++d) {
      in_chunk[d] = lo[d] - origin[d];
      in_out[d] = lo[d] - offset[d];
    }
    const std::string path = a.dir + "/" + z.chunk_key(idx);
    ckpt::Fd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
    if (fd.get() < 0) {
      if (errno != ENOENT) throw Error(MSW_STATUS_IO, "cannot open the chunk " + path + ": " + ckpt::errno_text());
      if (!z.fill)
        throw Error(MSW_STATUS_NOT_FOUND, "zarr: the chunk " + path + " of " + a.key +
                                              " is missing and the array's fill_value is null, so its values are "
                                              "undefined (a shard was not saved)");
      ckpt::fill_box(z.fill->data(), z.dtype, ckpt::tensor_bytes(out), shape, in_out, out.dtype, box);
      return;
    }
    struct stat st{};
    if (::fstat(fd.get(), &st) != 0) throw Error(MSW_STATUS_IO, "cannot stat " + path + ": " + ckpt::errno_text());
    if (st.st_size != z.chunk_bytes)
      throw Error(MSW_STATUS_IO, "zarr: the chunk " + path + " has " + std::to_string(st.st_size) + " bytes, expected " +
                                     std::to_string(z.chunk_bytes) + " (" + ckpt::dims_string(z.chunks) + " of " +
                                     z.dtype_text + ", uncompressed)" +
                                     (st.st_size < z.chunk_bytes ? ": the file is truncated" : ""));
    // The common case of a reshard-free load: the region is exactly this chunk, in its own dtype.
    if (box == z.chunks && box == shape && out.dtype == z.dtype) {
      ckpt::read_exact(fd.get(), ckpt::tensor_bytes(out), static_cast<size_t>(z.chunk_bytes), path);
      return;
    }
    buffer_.resize(static_cast<size_t>(z.chunk_bytes));
    ckpt::read_exact(fd.get(), buffer_.data(), buffer_.size(), path);
    ckpt::copy_box(buffer_.data(), z.chunks, in_chunk, z.dtype, ckpt::tensor_bytes(out), shape, in_out, out.dtype, box);
  }

  std::string dir_;
  std::vector<Array> arrays_;
  std::vector<char> buffer_;  // one chunk, reused
};

}  // namespace

std::unique_ptr<sdk::CheckpointReader> make_reader(const sdk::OpenArgs& args) {
  return std::make_unique<ZarrReader>(args);
}

}  // namespace megaswift::zarr
