// torch.save archives: writing one (data.pkl plus storage records) and reading one back into a value tree
// whose tensors are resolved against the archive's storage records (formats.md 3.3, 3.4).
#pragma once

#include "pickle.hpp"
#include "zip.hpp"

#include <megaswift/c/tensor.h>

#include <functional>
#include <string>
#include <vector>

namespace torchfmt {

// torch names of a dtype: "bfloat16" and "BFloat16Storage"; throws for a dtype torch has no storage for.
const char* torch_dtype_name(int32_t dtype);
const char* torch_storage_class(int32_t dtype);
// msw dtype of "torch.bfloat16" / "torch.BFloat16Storage"; -1 when unknown.
int32_t dtype_from_torch_name(std::string_view path);
int32_t dtype_from_storage_class(std::string_view path);

// A tensor found in data.pkl, resolved against its storage record.
struct TensorRef {
  int32_t dtype = MSW_DTYPE_F32;
  std::vector<int64_t> shape;
  std::vector<int64_t> strides;  // elements
  const uint8_t* data = nullptr; // the first element (storage + storage_offset)
};

// Emits the pickle of one tensor (REDUCE of _rebuild_tensor_v2) that refers to storage record `key`.
void pickle_tensor(PickleWriter& w, int32_t dtype, const std::vector<int64_t>& shape, const std::string& key);

// Writes a whole torch.save archive: `pickle` is data.pkl; storages[i] becomes data/<i>.
struct StorageBytes {
  const void* data;
  size_t size;
};
void write_torch_archive(OutFile& out, const std::string& folder, const std::string& pickle,
                         const std::vector<StorageBytes>& storages);

// Records written in torch 2.x's order around the storages, for writers that stream storages.
void write_archive_head(ZipWriter& z, const std::string& folder, const std::string& pickle);
void write_archive_tail(ZipWriter& z, const std::string& folder);

// A parsed archive over bytes the caller keeps alive.
class TorchArchive {
 public:
  TorchArchive(const uint8_t* base, size_t size, const std::string& what);
  const PyValue* root() const { return pickle_.root(); }
  // Resolves an object node of class torch._utils._rebuild_tensor_v2 (or _rebuild_parameter of one).
  TensorRef tensor(const PyValue* v) const;
  static bool is_tensor(const PyValue* v);
  const std::string& what() const { return what_; }

 private:
  std::string what_;
  ZipReader zip_;
  std::string folder_;
  Pickle pickle_;
};

}  // namespace torchfmt
