// A directory of safetensors files as one set of global tensors: model.safetensors, or the shards that
// model.safetensors.index.json names (HF's layout, ours or any HF model's). Every header is validated when the
// directory is opened; tensor data is read later, region by region, with pread (never a whole file).
#pragma once

#include "file_io.hpp"
#include "header.hpp"

#include <megaswift/c/tensor.h>

#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

namespace st {

struct OpenFile {
  Fd fd;
  FileHeader header;
};

struct TensorRef {
  const TensorEntry* entry;
  const OpenFile* file;
};

class DirectoryReader {
 public:
  explicit DirectoryReader(const std::string& dir);

  size_t tensor_count() const { return tensors_.size(); }
  const TensorRef& tensor(size_t i) const { return tensors_.at(i); }
  const TensorRef& find(const std::string& key) const;
  // The common state JSON we stored; "{}" for a directory another writer made.
  std::string common_state_json() const;
  bool written_by_megaswift() const;
  // The first file (model.safetensors, or model-00001-of-N): where our __metadata__ lives.
  const FileHeader& first_header() const { return files_.front()->header; }
  // Region [offset, offset + out.shape) of `key` into `out` (CPU, dense), converted to out.dtype.
  void read_region(const std::string& key, const std::vector<int64_t>& offset, const msw_tensor& out) const;

 private:
  void open_single(const std::string& dir);
  void open_index(const std::string& dir);
  const OpenFile& open_file(const std::string& dir, const std::string& name);

  std::vector<std::unique_ptr<OpenFile>> files_;
  std::unordered_map<std::string, size_t> file_by_name_;
  std::vector<TensorRef> tensors_;
  std::unordered_map<std::string, size_t> by_key_;
};

// Reads `count` bytes of tensor data at `offset` inside the data area of `file`; used by the multi-rank merge.
void read_tensor_bytes(const OpenFile& file, const TensorEntry& t, void* out);

}  // namespace st
