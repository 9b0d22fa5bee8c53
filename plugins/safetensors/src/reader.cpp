#include "reader.hpp"

#include "names.hpp"

#include <megaswift/sdk/regular_file.hpp>
#include <megaswift/sdk/status.hpp>
#include <megaswift/sdk/tensor.hpp>

#include <nlohmann/json.hpp>

#include <algorithm>
#include <fstream>
#include <sstream>

namespace st {

using megaswift::sdk::Error;
using nlohmann::json;

namespace {

// A weight_map entry must name a file inside the directory, never a path out of it.
bool plain_file_name(const std::string& n) {
  return !n.empty() && n != "." && n != ".." && n.find('/') == std::string::npos && n.find('\0') == std::string::npos;
}

std::string dims_text(const std::vector<int64_t>& v) {
  std::string s = "[";
  for (size_t i = 0; i < v.size(); ++i) s += (i ? ", " : "") + std::to_string(v[i]);
  return s + "]";
}

}  // namespace

DirectoryReader::DirectoryReader(const std::string& dir) {
  if (path_exists(join(dir, kIndexFile))) open_index(dir);
  else if (path_exists(join(dir, kSingleFile))) open_single(dir);
  else
    throw Error(MSW_STATUS_NOT_FOUND, "safetensors: " + dir + " holds neither " + kSingleFile + " nor " + kIndexFile);
  // msw_dtype has no code for I16: refuse now, naming the tensor, rather than half-way through a load.
  for (const TensorRef& t : tensors_)
    if (t.entry->dtype.msw == kNoMswDtype)
      throw Error(MSW_STATUS_UNSUPPORTED, "safetensors file " + t.file->header.path + ": tensor \"" + t.entry->name +
                                              "\" has dtype " + std::string(t.entry->dtype.name) +
                                              ", which Megaswift has no tensor dtype for");
}

const OpenFile& DirectoryReader::open_file(const std::string& dir, const std::string& name) {
  if (auto it = file_by_name_.find(name); it != file_by_name_.end()) return *files_[it->second];
  auto f = std::make_unique<OpenFile>();
  f->fd = open_read(join(dir, name));
  f->header = read_header(f->fd);
  file_by_name_[name] = files_.size();
  files_.push_back(std::move(f));
  return *files_.back();
}

void DirectoryReader::open_single(const std::string& dir) {
  const OpenFile& f = open_file(dir, kSingleFile);
  for (const TensorEntry& t : f.header.tensors) {
    by_key_[t.name] = tensors_.size();
    tensors_.push_back({&t, &f});
  }
}

void DirectoryReader::open_index(const std::string& dir) {
  const std::string index_path = join(dir, kIndexFile);
  // A regular file only (a FIFO would block), refused past the header limit before it is read: an index lists names
  // only, so the limit is generous for it and keeps a bogus file from filling memory.
  const std::string text = megaswift::sdk::read_regular_file(index_path, "safetensors index", kMaxHeaderSize);
  if (const size_t depth = json_nesting_depth(text); depth > kMaxNesting)
    throw Error(MSW_STATUS_INVALID_ARGUMENT, index_path + " nests objects and arrays " + std::to_string(depth) +
                                                 " deep; an index needs 3");
  json j;
  try {
    j = json::parse(text);
  } catch (const json::exception& e) {
    throw Error(MSW_STATUS_INVALID_ARGUMENT, index_path + " is not valid JSON (" + e.what() + ")");
  }
  const auto wm = j.is_object() ? j.find("weight_map") : j.end();
  if (wm == j.end() || !wm->is_object())
    throw Error(MSW_STATUS_INVALID_ARGUMENT, index_path + ": field \"weight_map\" is missing or not an object of "
                                                          "{tensor name: file name}");
  // Files in the order HF numbers them, so the first file (our __metadata__) is model-00001-of-N.
  std::vector<std::string> names;
  for (auto it = wm->begin(); it != wm->end(); ++it) {
    if (!it->is_string() || !plain_file_name(it->get<std::string>()))
      throw Error(MSW_STATUS_INVALID_ARGUMENT, index_path + ": weight_map entry for tensor \"" + it.key() + "\" is " +
                                                   it->dump() + "; expected a file name inside the directory");
    names.push_back(it->get<std::string>());
  }
  if (names.empty()) throw Error(MSW_STATUS_INVALID_ARGUMENT, index_path + ": weight_map is empty");
  std::sort(names.begin(), names.end());
  names.erase(std::unique(names.begin(), names.end()), names.end());
  for (const std::string& n : names) {
    if (!path_exists(join(dir, n))) {
      std::string tensor;
      for (auto it = wm->begin(); it != wm->end() && tensor.empty(); ++it)
        if (it->get<std::string>() == n) tensor = it.key();
      throw Error(MSW_STATUS_NOT_FOUND, index_path + ": weight_map puts tensor \"" + tensor + "\" in file \"" + n +
                                            "\", which does not exist in " + dir);
    }
    open_file(dir, n);
  }
  // Tensors in file order, then data order: the order a sequential load reads the disk in.
  for (const auto& f : files_) {
    for (const TensorEntry& t : f->header.tensors) {
      const auto it = wm->find(t.name);
      if (it == wm->end() || it->get<std::string>() != f->header.path.substr(f->header.path.rfind('/') + 1)) continue;
      by_key_[t.name] = tensors_.size();
      tensors_.push_back({&t, f.get()});
    }
  }
  for (auto it = wm->begin(); it != wm->end(); ++it)
    if (!by_key_.count(it.key()))
      throw Error(MSW_STATUS_NOT_FOUND, index_path + ": weight_map puts tensor \"" + it.key() + "\" in file \"" +
                                            it->get<std::string>() + "\", whose header has no such tensor");
}

const TensorRef& DirectoryReader::find(const std::string& key) const {
  const auto it = by_key_.find(key);
  if (it == by_key_.end()) throw Error(MSW_STATUS_NOT_FOUND, "safetensors: no tensor \"" + key + "\" in the checkpoint");
  return tensors_[it->second];
}

std::string DirectoryReader::common_state_json() const {
  const auto& m = first_header().metadata;
  const auto it = m.find(kMetaCommonState);
  return it == m.end() ? "{}" : it->second;
}

bool DirectoryReader::written_by_megaswift() const {
  const auto& m = first_header().metadata;
  const auto it = m.find(kMetaMarker);
  return it != m.end() && it->second == kMarkerValue;
}

void read_tensor_bytes(const OpenFile& file, const TensorEntry& t, void* out) {
  pread_exact(file.fd, out, static_cast<size_t>(t.end - t.begin), file.header.data_start + t.begin,
              "tensor \"" + t.name + "\"");
}

void DirectoryReader::read_region(const std::string& key, const std::vector<int64_t>& offset,
                                  const msw_tensor& out) const {
  const TensorRef& ref = find(key);
  const TensorEntry& t = *ref.entry;
  megaswift::sdk::require_cpu_contiguous(out, ("read_region of \"" + key + "\"").c_str());
  const int nd = static_cast<int>(t.shape.size());
  if (out.ndim != nd || static_cast<int>(offset.size()) != nd)
    throw Error(MSW_STATUS_SHAPE_MISMATCH, "read_region: tensor \"" + key + "\" has " + std::to_string(nd) +
                                               " dimensions " + dims_text(t.shape) + " but the region has " +
                                               std::to_string(out.ndim));
  for (int d = 0; d < nd; ++d)
    if (offset[d] < 0 || out.shape[d] < 0 || offset[d] > t.shape[d] || out.shape[d] > t.shape[d] - offset[d])
      throw Error(MSW_STATUS_SHAPE_MISMATCH, "read_region: region " + megaswift::sdk::shape_string(out) +
                                                 " at offset " + dims_text(offset) + " lies outside tensor \"" + key +
                                                 "\" of shape " + dims_text(t.shape));
  const int32_t src_dtype = t.dtype.msw;
  if (src_dtype != out.dtype && !(msw_dtype_is_float(src_dtype) && msw_dtype_is_float(out.dtype)))
    throw Error(MSW_STATUS_SHAPE_MISMATCH, "read_region: tensor \"" + key + "\" is " + std::string(t.dtype.name) +
                                               "; it can be read only as itself (conversion is between floats only)");
  const int64_t numel = msw_tensor_numel(&out);
  if (numel == 0) return;
  const size_t es = t.dtype.size, os = msw_dtype_size(out.dtype);
  // The innermost run that is contiguous on disk: trailing dimensions the region spans fully, plus one more.
  int inner = nd;  // dims [inner, nd) are read as one run
  int64_t run = 1;
  while (inner > 0) {
    run *= out.shape[inner - 1];
    --inner;
    if (out.shape[inner] != t.shape[inner]) break;
  }
  auto* dst = static_cast<char*>(out.data) + out.byte_offset;
  std::vector<char> staging;
  const bool same = src_dtype == out.dtype;
  // Long runs are converted through a bounded buffer so memory stays small whatever the region.
  const int64_t chunk = same ? run : std::min<int64_t>(run, (4 << 20) / static_cast<int64_t>(es));
  if (!same) staging.resize(static_cast<size_t>(chunk) * es);
  std::vector<int64_t> idx(static_cast<size_t>(inner), 0);  // position among the outer dims of the region
  const std::string what = "tensor \"" + key + "\"";
  // Short runs (a column slice, say) are read several at a time: one pread of the span holding `batch` consecutive
  // runs along the last outer dimension (at most ~4 MiB), then gathered, instead of one syscall per run.
  const int bd = inner - 1;
  uint64_t stride = es;  // disk bytes between consecutive positions along dimension bd
  for (int d = bd + 1; d < nd; ++d) stride *= static_cast<uint64_t>(t.shape[d]);
  const uint64_t run_bytes = static_cast<uint64_t>(run) * es;
  const int64_t batch = (bd >= 0 && run_bytes < (64u << 10))
                            ? std::max<int64_t>(1, static_cast<int64_t>((4u << 20) / std::max<uint64_t>(stride, 1)))
                            : 1;
  std::vector<char> span_buf;
  for (int64_t done = 0; done < numel;) {
    uint64_t elem = 0;  // element index in the stored tensor of the run's first element
    for (int d = 0; d < nd; ++d) {
      const int64_t pos = offset[d] + (d < inner ? idx[d] : 0);
      elem = elem * static_cast<uint64_t>(t.shape[d]) + static_cast<uint64_t>(pos);
    }
    const uint64_t file_off = ref.file->header.data_start + t.begin + elem * es;
    int64_t k = 1;  // runs handled in this step
    if (batch > 1) {
      k = std::min(batch, out.shape[bd] - idx[bd]);
      span_buf.resize(static_cast<size_t>(static_cast<uint64_t>(k - 1) * stride + run_bytes));
      pread_exact(ref.file->fd, span_buf.data(), span_buf.size(), file_off, what);
      for (int64_t j = 0; j < k; ++j)
        convert(span_buf.data() + static_cast<uint64_t>(j) * stride, src_dtype,
                dst + (done + j * run) * static_cast<int64_t>(os), out.dtype, static_cast<size_t>(run));
    } else if (same) {
      pread_exact(ref.file->fd, dst + done * static_cast<int64_t>(os), static_cast<size_t>(run_bytes), file_off, what);
    } else {
      for (int64_t c = 0; c < run; c += chunk) {
        const int64_t n = std::min(chunk, run - c);
        pread_exact(ref.file->fd, staging.data(), static_cast<size_t>(n) * es, file_off + static_cast<uint64_t>(c) * es, what);
        convert(staging.data(), src_dtype, dst + (done + c) * static_cast<int64_t>(os), out.dtype, static_cast<size_t>(n));
      }
    }
    done += k * run;
    if (bd >= 0) idx[bd] += k - 1;
    for (int d = inner - 1; d >= 0; --d) {  // next outer index, row-major
      if (++idx[d] < out.shape[d]) break;
      idx[d] = 0;
    }
  }
}

}  // namespace st
