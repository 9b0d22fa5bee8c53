#include "writer.hpp"

#include "dtype.hpp"
#include "header.hpp"
#include "names.hpp"

#include <megaswift/sdk/status.hpp>
#include <megaswift/sdk/tensor.hpp>

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <unistd.h>

namespace st {

using megaswift::sdk::Error;
using nlohmann::json;

namespace {

std::string dims_text(const std::vector<int64_t>& v) {
  std::string s = "[";
  for (size_t i = 0; i < v.size(); ++i) s += (i ? ", " : "") + std::to_string(v[i]);
  return s + "]";
}

uint64_t checked_numel(const std::string& key, const std::vector<int64_t>& shape) {
  uint64_t n = 1;
  for (int64_t d : shape)
    if (d < 0 || __builtin_mul_overflow(n, static_cast<uint64_t>(d), &n))
      throw Error(MSW_STATUS_INVALID_ARGUMENT, "safetensors: tensor \"" + key + "\" has shape " + dims_text(shape) +
                                                   " whose element count is negative or overflows 64 bits");
  return n;
}

// JSON text of a string; keys that are not valid UTF-8 cannot be stored in the header.
std::string quoted(const std::string& s, const char* what) {
  try {
    return json(s).dump();
  } catch (const json::exception&) {
    throw Error(MSW_STATUS_INVALID_ARGUMENT, std::string("safetensors: ") + what + " \"" + s +
                                                 "\" is not valid UTF-8; safetensors headers are UTF-8 JSON");
  }
}

// Copies the dense box `src` (shape `box`, at `offset`) into the dense tensor `dst` of shape `full`.
void copy_box_in(const char* src, const std::vector<int64_t>& box, const std::vector<int64_t>& offset, char* dst,
                 const std::vector<int64_t>& full, size_t es) {
  const int nd = static_cast<int>(full.size());
  int inner = nd;
  int64_t run = 1;
  while (inner > 0) {
    run *= box[inner - 1];
    --inner;
    if (box[inner] != full[inner]) break;
  }
  int64_t total = 1;
  for (int64_t d : box) total *= d;
  if (total == 0) return;
  std::vector<int64_t> idx(static_cast<size_t>(inner), 0);
  for (int64_t done = 0; done < total; done += run) {
    uint64_t elem = 0;
    for (int d = 0; d < nd; ++d)
      elem = elem * static_cast<uint64_t>(full[d]) + static_cast<uint64_t>(offset[d] + (d < inner ? idx[d] : 0));
    std::memcpy(dst + elem * es, src + static_cast<uint64_t>(done) * es, static_cast<size_t>(run) * es);
    for (int d = inner - 1; d >= 0; --d) {
      if (++idx[d] < box[d]) break;
      idx[d] = 0;
    }
  }
}

bool boxes_overlap(const std::vector<int64_t>& ao, const std::vector<int64_t>& as, const std::vector<int64_t>& bo,
                   const std::vector<int64_t>& bs) {
  for (size_t d = 0; d < ao.size(); ++d)
    if (ao[d] + as[d] <= bo[d] || bo[d] + bs[d] <= ao[d]) return false;
  return true;
}

}  // namespace

std::string build_header(const std::map<std::string, std::string>& metadata, const std::vector<HeaderEntry>& entries) {
  std::string h = "{";
  if (!metadata.empty()) {
    h += "\"__metadata__\":{";
    bool first = true;
    for (const auto& [k, v] : metadata) {
      h += (first ? "" : ",") + quoted(k, "metadata key") + ":" + quoted(v, "metadata value");
      first = false;
    }
    h += "}";
  }
  for (const HeaderEntry& e : entries) {
    if (h.size() > 1) h += ",";
    h += quoted(e.name, "tensor name") + ":{\"dtype\":\"" + std::string(dtype_name(e.dtype)) + "\",\"shape\":[";
    for (size_t d = 0; d < e.shape.size(); ++d) h += (d ? "," : "") + std::to_string(e.shape[d]);
    h += "],\"data_offsets\":[" + std::to_string(e.begin) + "," + std::to_string(e.end) + "]}";
  }
  h += "}";
  // Padding to a multiple of 8 puts the data area on an 8-byte boundary, as the reference writer does.
  h.append((8 - h.size() % 8) % 8, ' ');
  return h;
}

StreamingWriter::StreamingWriter(WriterConfig cfg) : cfg_(std::move(cfg)) {
  if (cfg_.staging) cfg_.max_shard_size = UINT64_MAX;
}

StreamingWriter::~StreamingWriter() {
  if (finished_) return;
  for (Part& p : parts_) ::unlink(p.staging_path.c_str());  // best effort; the host discards the directory anyway
}

void StreamingWriter::add(const std::string& key, const std::vector<int64_t>& global_shape,
                          const std::vector<int64_t>& offset, const msw_tensor& data) {
  const std::string what = "safetensors: shard of \"" + key + "\"";
  megaswift::sdk::require_cpu_contiguous(data, what.c_str());
  if (key == "__metadata__")
    throw Error(MSW_STATUS_INVALID_ARGUMENT, "safetensors: the key \"__metadata__\" is reserved by the format");
  const size_t es = msw_dtype_size(data.dtype);
  (void)dtype_name(data.dtype);  // throws for a dtype safetensors cannot store
  const std::vector<int64_t> box(data.shape, data.shape + data.ndim);
  if (box.size() != global_shape.size() || offset.size() != global_shape.size())
    throw Error(MSW_STATUS_SHAPE_MISMATCH, what + ": data " + dims_text(box) + " at " + dims_text(offset) +
                                               " does not have the rank of the global shape " + dims_text(global_shape));
  for (size_t d = 0; d < box.size(); ++d)
    if (offset[d] < 0 || box[d] < 0 || offset[d] > global_shape[d] || box[d] > global_shape[d] - offset[d])
      throw Error(MSW_STATUS_SHAPE_MISMATCH, what + ": data " + dims_text(box) + " at " + dims_text(offset) +
                                                 " does not fit the global shape " + dims_text(global_shape));
  const uint64_t box_numel = checked_numel(key, box), numel = checked_numel(key, global_shape);
  uint64_t nbytes;
  if (__builtin_mul_overflow(numel, es, &nbytes))
    throw Error(MSW_STATUS_INVALID_ARGUMENT, what + ": byte size overflows 64 bits");
  const char* src = static_cast<const char*>(data.data) + data.byte_offset;
  if (box_numel && !data.data) throw Error(MSW_STATUS_INVALID_ARGUMENT, what + ": data is NULL");

  if (cfg_.staging) {  // every piece as it is; the coordinator assembles
    const std::string name = "piece." + std::to_string(piece_count_++);
    append(name, data.dtype, box, src, box_numel * es);
    pieces_json_ += std::string(piece_count_ > 1 ? "," : "") + json{{"tensor", name}, {"key", key},
                                                                    {"global_shape", global_shape},
                                                                    {"global_offset", offset}}.dump();
    return;
  }
  if (done_.count(key))
    throw Error(MSW_STATUS_INVALID_ARGUMENT, what + " at " + dims_text(offset) + " arrives after the tensor was "
                                                 "complete; every element must be written once");
  auto it = pending_.find(key);
  if (it == pending_.end()) {
    if (box == global_shape) {  // the whole tensor in one shard: straight to disk, no copy
      append(key, data.dtype, global_shape, src, nbytes);
      done_.insert(key);
      return;
    }
    Assembly a;
    a.dtype = data.dtype;
    a.shape = global_shape;
    a.numel = numel;
    a.bytes.resize(static_cast<size_t>(nbytes));
    it = pending_.emplace(key, std::move(a)).first;
  }
  Assembly& a = it->second;
  if (a.dtype != data.dtype || a.shape != global_shape)
    throw Error(MSW_STATUS_SHAPE_MISMATCH, what + " is " + std::string(dtype_name(data.dtype)) + " of global shape " +
                                               dims_text(global_shape) + " but an earlier shard said " +
                                               std::string(dtype_name(a.dtype)) + " " + dims_text(a.shape));
  for (const Box& b : a.boxes)
    if (boxes_overlap(offset, box, b.offset, b.shape))
      throw Error(MSW_STATUS_INVALID_ARGUMENT, what + " at " + dims_text(offset) + " shape " + dims_text(box) +
                                                   " overlaps the shard at " + dims_text(b.offset) + " shape " +
                                                   dims_text(b.shape));
  copy_box_in(src, box, offset, a.bytes.data(), a.shape, es);
  a.boxes.push_back({offset, box});
  a.covered += box_numel;
  if (a.covered == a.numel) {
    append(key, a.dtype, a.shape, a.bytes.data(), a.bytes.size());
    done_.insert(key);
    pending_.erase(it);
  }
}

void StreamingWriter::append(const std::string& name, int32_t dtype, const std::vector<int64_t>& shape,
                             const void* data, uint64_t nbytes) {
  quoted(name, "tensor name");  // refuse a name the header cannot hold before any byte is written
  // HF's rule: a tensor joins the current shard unless that would pass the limit; a tensor above the limit
  // gets a shard of its own. Tensors are never split.
  if (parts_.empty() || (parts_.back().bytes > 0 && parts_.back().bytes + nbytes > cfg_.max_shard_size)) {
    Part p;
    char buf[64];
    std::snprintf(buf, sizeof buf, ".megaswift-staging-r%d-%05zu.tmp", static_cast<int>(cfg_.rank), parts_.size() + 1);
    p.staging_path = join(cfg_.dir, buf);
    p.fd = open_write_new(p.staging_path);
    parts_.push_back(std::move(p));
  }
  Part& p = parts_.back();
  pwrite_all(p.fd, data, static_cast<size_t>(nbytes), p.bytes);
  p.tensors.push_back({name, dtype, shape, p.bytes, nbytes});
  p.bytes += nbytes;
}

void StreamingWriter::write_final(Part& part, const std::string& file_name,
                                  const std::map<std::string, std::string>& metadata) {
  // The reference writer's order: larger alignment first, then by name.
  std::sort(part.tensors.begin(), part.tensors.end(), [](const PartTensor& a, const PartTensor& b) {
    const size_t ea = msw_dtype_size(a.dtype), eb = msw_dtype_size(b.dtype);
    return ea != eb ? ea > eb : a.name < b.name;
  });
  std::vector<HeaderEntry> entries;
  uint64_t at = 0;
  for (const PartTensor& t : part.tensors) {
    entries.push_back({t.name, t.dtype, t.shape, at, at + t.nbytes});
    at += t.nbytes;
  }
  const std::string header = build_header(metadata, entries);
  const std::string path = join(cfg_.dir, file_name);
  if (header.size() > kMaxHeaderSize)
    throw Error(MSW_STATUS_INVALID_ARGUMENT, "safetensors: the header of " + path + " would be " +
                                                 std::to_string(header.size()) + " bytes, above the readers' limit of " +
                                                 std::to_string(kMaxHeaderSize) + "; use a smaller max_shard_size");
  Fd out = open_write_new(path);
  unsigned char len[8];
  uint64_t n = header.size();
  for (int i = 0; i < 8; ++i, n >>= 8) len[i] = static_cast<unsigned char>(n & 0xFF);
  pwrite_all(out, len, 8, 0);
  pwrite_all(out, header.data(), header.size(), 8);
  const uint64_t data_start = 8 + header.size();
  for (size_t i = 0; i < part.tensors.size(); ++i)
    copy_range(part.fd, part.tensors[i].staged_at, out, data_start + entries[i].begin, part.tensors[i].nbytes);
  fsync_file(out);
  out.close();
  part.fd.close();
  if (::unlink(part.staging_path.c_str()) != 0)
    throw Error(MSW_STATUS_IO, "safetensors: cannot remove the staging file " + part.staging_path);
}

std::vector<std::string> StreamingWriter::finish() {
  if (!pending_.empty()) {
    const auto& [key, a] = *pending_.begin();
    throw Error(MSW_STATUS_INVALID_ARGUMENT,
                "safetensors: tensor \"" + key + "\" of shape " + dims_text(a.shape) + " is incomplete: its shards " +
                    "cover " + std::to_string(a.covered) + " of " + std::to_string(a.numel) + " elements (" +
                    std::to_string(pending_.size()) + " tensor(s) incomplete); with one rank every shard of a key "
                    "must be written");
  }
  if (parts_.empty()) {  // no tensors at all: still one file, carrying the metadata
    Part p;
    p.staging_path = join(cfg_.dir, ".megaswift-staging-empty.tmp");
    p.fd = open_write_new(p.staging_path);
    parts_.push_back(std::move(p));
  }
  std::vector<std::string> names;
  const size_t n = parts_.size();
  json weight_map = json::object();
  uint64_t total = 0;
  for (size_t i = 0; i < n; ++i) {
    std::map<std::string, std::string> meta{{kMetaFormat, "pt"}};
    if (i == 0) meta.insert(cfg_.first_file_metadata.begin(), cfg_.first_file_metadata.end());
    if (cfg_.staging) meta[kMetaPieces] = pieces_json_ + "]";
    const std::string name = cfg_.staging ? rank_file_name(cfg_.rank) : n == 1 ? kSingleFile : shard_file_name(i + 1, n);
    for (const PartTensor& t : parts_[i].tensors) {
      weight_map[t.name] = name;
      total += t.nbytes;
    }
    write_final(parts_[i], name, meta);
    names.push_back(name);
  }
  if (n > 1 && !cfg_.staging) {
    // transformers writes the index with sorted keys and an indent of 2; nlohmann's objects are sorted.
    const json index = {{"metadata", {{"total_size", total}}}, {"weight_map", weight_map}};
    const std::string text = index.dump(2) + "\n";
    const std::string path = join(cfg_.dir, kIndexFile);
    Fd f = open_write_new(path);
    pwrite_all(f, text.data(), text.size(), 0);
    fsync_file(f);
    f.close();
    names.push_back(kIndexFile);
  }
  fsync_dir(cfg_.dir);
  finished_ = true;
  return names;
}

std::vector<std::string> merge_rank_files(const std::string& dir, int32_t world_size, WriterConfig final_cfg) {
  struct Piece {
    size_t file;
    const TensorEntry* entry;
    std::vector<int64_t> global_shape, global_offset;
  };
  std::vector<std::unique_ptr<std::pair<Fd, FileHeader>>> files;
  std::vector<std::string> order;
  std::unordered_map<std::string, std::vector<Piece>> by_key;
  for (int32_t r = 0; r < world_size; ++r) {
    const std::string path = join(dir, rank_file_name(r));
    if (!path_exists(path))
      throw Error(MSW_STATUS_NOT_FOUND, "safetensors commit_save: rank " + std::to_string(r) + "'s file " + path +
                                            " is missing; every rank must finish_save into a directory the "
                                            "coordinator can read (a shared filesystem)");
    auto f = std::make_unique<std::pair<Fd, FileHeader>>();
    f->first = open_read(path);
    f->second = read_header(f->first);
    const auto meta = f->second.metadata.find(kMetaPieces);
    if (meta == f->second.metadata.end())
      throw Error(MSW_STATUS_INVALID_ARGUMENT, "safetensors file " + path + ": \"__metadata__\" lacks \"" +
                                                   kMetaPieces + "\"; it is not a Megaswift staging file");
    json pieces;
    try {
      pieces = json::parse(meta->second);
    } catch (const json::exception& e) {
      throw Error(MSW_STATUS_INVALID_ARGUMENT, "safetensors file " + path + ": \"" + kMetaPieces +
                                                   "\" is not valid JSON (" + e.what() + ")");
    }
    std::unordered_map<std::string, const TensorEntry*> entries;
    for (const TensorEntry& t : f->second.tensors) entries[t.name] = &t;
    for (const json& p : pieces) {
      try {
        const auto e = entries.find(p.at("tensor").get<std::string>());
        if (e == entries.end())
          throw Error(MSW_STATUS_INVALID_ARGUMENT, "safetensors file " + path + ": piece " + p.dump() +
                                                       " names a tensor the header does not have");
        const std::string key = p.at("key").get<std::string>();
        if (!by_key.count(key)) order.push_back(key);
        by_key[key].push_back({files.size(), e->second, p.at("global_shape").get<std::vector<int64_t>>(),
                               p.at("global_offset").get<std::vector<int64_t>>()});
      } catch (const json::exception& ex) {
        throw Error(MSW_STATUS_INVALID_ARGUMENT, "safetensors file " + path + ": piece " + p.dump() +
                                                     " is malformed (" + ex.what() + ")");
      }
    }
    files.push_back(std::move(f));
  }
  StreamingWriter writer(std::move(final_cfg));
  std::vector<char> buf;
  for (const std::string& key : order) {
    for (const Piece& p : by_key[key]) {
      const TensorEntry& t = *p.entry;
      buf.resize(static_cast<size_t>(t.end - t.begin));
      const auto& [fd, header] = *files[p.file];
      pread_exact(fd, buf.data(), buf.size(), header.data_start + t.begin, "tensor \"" + t.name + "\"");
      msw_tensor view{};
      view.data = buf.data();
      view.device = {MSW_DEVICE_CPU, 0};
      view.dtype = t.dtype.msw;
      if (t.shape.size() != p.global_shape.size() || t.shape.size() != p.global_offset.size())
        throw Error(MSW_STATUS_INVALID_ARGUMENT, "safetensors file " + header.path + ": piece \"" + t.name +
                                                     "\" of key \"" + key + "\" disagrees with its global shape");
      msw_tensor_set_dense_shape(&view, static_cast<int32_t>(t.shape.size()), t.shape.data());
      writer.add(key, p.global_shape, p.global_offset, view);
    }
  }
  std::vector<std::string> names = writer.finish();
  for (const auto& f : files)
    if (::unlink(f->second.path.c_str()) != 0)
      throw Error(MSW_STATUS_IO, "safetensors commit_save: cannot remove the staging file " + f->second.path);
  fsync_dir(dir);
  return names;
}

}  // namespace st
