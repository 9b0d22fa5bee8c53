#include "torch_dist.hpp"

#include "common_state.hpp"
#include "dcp_metadata.hpp"
#include "io.hpp"
#include "shard_data.hpp"
#include "torch_save.hpp"

#include <algorithm>
#include <filesystem>
#include <map>
#include <memory>
#include <unordered_map>

namespace torchfmt {

namespace fs = std::filesystem;
using megaswift::sdk::CheckpointReader;
using megaswift::sdk::CheckpointWriter;
using megaswift::sdk::OpenArgs;
using megaswift::sdk::SaveArgs;
using megaswift::sdk::Shard;
using megaswift::sdk::TensorInfo;

namespace {

std::string sidecar_name(int32_t rank) { return ".rank" + std::to_string(rank) + ".meta"; }

class DistWriter final : public CheckpointWriter {
 public:
  explicit DistWriter(const SaveArgs& a) : args_(a), file_name_("__" + std::to_string(a.rank) + "_0.distcp") {
    if (!fs::is_directory(a.dir)) throw Error(MSW_STATUS_NOT_FOUND, "torch_dist: save directory " + a.dir + " does not exist");
  }

  void write(const std::vector<Shard>& shards) override {
    for (const Shard& s : shards) {
      if (s.replica_id != 0) continue;  // only the main replica is stored, as Megatron does
      const std::string what = "torch_dist write " + s.key;
      const DenseBytes bytes = dense_bytes(s.data, s.key);
      const std::vector<int64_t> sizes(s.data.shape, s.data.shape + s.data.ndim);
      PickleWriter w;
      pickle_tensor(w, s.data.dtype, sizes, "0");
      w.stop();
      if (!out_) out_ = std::make_unique<OutFile>((fs::path(args_.dir) / file_name_).string());
      const uint64_t start = out_->position();
      write_torch_archive(*out_, "archive", w.bytes_out(), {{bytes.data, bytes.size}});
      chunks_.push_back(Json{{"key", s.key},
                             {"dtype", s.data.dtype},
                             {"shape", s.global_shape},
                             {"offsets", s.global_offset},
                             {"sizes", sizes},
                             {"file", file_name_},
                             {"offset", start},
                             {"length", out_->position() - start}});
    }
  }

  void finish() override {
    if (out_) out_->close(!args_.async);
    write_file_atomic((fs::path(args_.dir) / sidecar_name(args_.rank)).string(),
                      Json{{"rank", args_.rank}, {"chunks", chunks_}}.dump(), !args_.async);
  }

 private:
  SaveArgs args_;
  std::string file_name_;
  std::unique_ptr<OutFile> out_;
  Json chunks_ = Json::array();
};

bool overlaps(const DcpChunk& a, const DcpChunk& b) {
  for (size_t d = 0; d < a.offsets.size(); ++d)
    if (a.offsets[d] >= b.offsets[d] + b.sizes[d] || b.offsets[d] >= a.offsets[d] + a.sizes[d]) return false;
  return true;
}

// Chunks must not overlap (each element has one stored home); `complete` also demands full coverage.
void check_tiling(const DcpTensor& t, bool complete, const std::string& what) {
  int64_t covered = 0;
  for (size_t i = 0; i < t.chunks.size(); ++i) {
    covered += numel_checked(t.chunks[i].sizes, what);
    for (size_t j = 0; j < i; ++j)
      if (overlaps(t.chunks[i], t.chunks[j]) && numel_checked(t.chunks[i].sizes, what) > 0)
        throw Error(complete ? MSW_STATUS_INVALID_ARGUMENT : MSW_STATUS_IO,
                    what + ": tensor '" + t.key + "' has overlapping chunks " + std::to_string(j) + " and " +
                        std::to_string(i));
  }
  const int64_t total = numel_checked(t.shape, what);
  if (complete && covered != total)
    throw Error(MSW_STATUS_INVALID_ARGUMENT, what + ": tensor '" + t.key + "' is covered by " + std::to_string(covered) +
                                                 " of its " + std::to_string(total) +
                                                 " elements; every element needs exactly one shard with replica_id 0");
}

class DistReader final : public CheckpointReader {
 public:
  explicit DistReader(const OpenArgs& a) : dir_(a.dir) {
    const std::string meta_path = (fs::path(dir_) / ".metadata").string();
    MappedFile meta(meta_path);
    meta_ = parse_dcp_metadata(meta.data(), meta.size(), meta_path);
    auto check_item = [&](const DcpItem& it, const std::string& key) {
      const MappedFile& f = file(it.file);
      if (it.offset > f.size() || it.length > f.size() - it.offset)
        throw Error(MSW_STATUS_IO, meta_path + ": item '" + key + "' at [" + std::to_string(it.offset) + ", +" +
                                       std::to_string(it.length) + ") lies outside " + it.file + " (" +
                                       std::to_string(f.size()) + " bytes; truncated?)");
    };
    for (const DcpTensor& t : meta_.tensors) {
      for (const DcpChunk& c : t.chunks) check_item(c.item, t.key);
      check_tiling(t, false, meta_path);
      decoded_.emplace_back(t.chunks.size());
    }
    for (const DcpBytes& b : meta_.bytes) check_item(b.item, b.key);
    for (size_t i = 0; i < meta_.tensors.size(); ++i) index_[meta_.tensors[i].key] = i;
    common_ = load_common();
  }

  std::string common_state_json() const override { return common_; }
  size_t tensor_count() const override { return meta_.tensors.size(); }
  TensorInfo tensor_info(size_t i) const override {
    const DcpTensor& t = meta_.tensors.at(i);
    return TensorInfo{t.key, t.dtype, t.shape};
  }

  void read_region(const std::string& key, const std::vector<int64_t>& offset, const msw_tensor& out) override {
    auto it = index_.find(key);
    if (it == index_.end()) throw Error(MSW_STATUS_NOT_FOUND, "torch_dist " + dir_ + ": no tensor '" + key + "'");
    const DcpTensor& t = meta_.tensors[it->second];
    check_region_request(key, t.dtype, t.shape, offset, out);
    const std::vector<int64_t> rshape(out.shape, out.shape + out.ndim);
    const int64_t want = numel_checked(rshape, key);
    int64_t got = 0;
    for (size_t c = 0; c < t.chunks.size() && got < want; ++c) {
      const DcpChunk& ch = t.chunks[c];
      bool hit = true;
      for (size_t d = 0; d < t.shape.size(); ++d)
        if (ch.offsets[d] >= offset[d] + rshape[d] || offset[d] >= ch.offsets[d] + ch.sizes[d]) hit = false;
      if (!hit) continue;
      const TensorRef& ref = chunk_tensor(it->second, c);
      got += copy_intersection(ChunkView{ref.data, ref.dtype, ch.offsets, ref.shape, ref.strides}, offset, out);
    }
    for (const auto& [name, f] : files_) f->drop_resident_pages();
    if (got != want)
      throw Error(MSW_STATUS_IO, "torch_dist " + dir_ + ": the stored chunks of '" + key + "' cover " +
                                     std::to_string(got) + " of the " + std::to_string(want) +
                                     " elements requested");
  }

 private:
  const MappedFile& file(const std::string& name) {
    auto it = files_.find(name);
    if (it != files_.end()) return *it->second;
    auto f = std::make_unique<MappedFile>((fs::path(dir_) / name).string());
    return *files_.emplace(name, std::move(f)).first->second;
  }

  const TorchArchive& item_archive(const DcpItem& it, std::unique_ptr<TorchArchive>& slot, const std::string& key) {
    if (!slot) {
      const MappedFile& f = file(it.file);
      slot = std::make_unique<TorchArchive>(f.data() + it.offset, it.length,
                                            (fs::path(dir_) / it.file).string() + " item '" + key + "' at " +
                                                std::to_string(it.offset));
    }
    return *slot;
  }

  const TensorRef& chunk_tensor(size_t t, size_t c) {
    Decoded& d = decoded_[t][c];
    if (d.archive) return d.ref;
    const DcpTensor& ten = meta_.tensors[t];
    const DcpChunk& ch = ten.chunks[c];
    const TorchArchive& a = item_archive(ch.item, d.archive, ten.key);
    TensorRef ref = a.tensor(a.root());
    if (ref.dtype != ten.dtype || ref.shape != ch.sizes) {
      d.archive.reset();
      throw Error(MSW_STATUS_IO, "torch_dist " + dir_ + ": chunk " + std::to_string(c) + " of '" + ten.key +
                                     "' holds a " + megaswift::sdk::dtype_name(ref.dtype) + " tensor of another "
                                     "shape or dtype than .metadata records");
    }
    d.ref = ref;
    return d.ref;
  }

  std::string load_common() {
    const fs::path common_pt = fs::path(dir_) / "common.pt";
    if (fs::exists(common_pt)) {
      MappedFile f(common_pt.string());
      TorchArchive a(f.data(), f.size(), common_pt.string());
      return to_json(a.root(), common_pt.string()).dump(-1, ' ', false, Json::error_handler_t::replace);
    }
    for (const DcpBytes& b : meta_.bytes) {
      if (b.key.rfind("common_state/", 0) != 0) continue;
      std::unique_ptr<TorchArchive> a;
      item_archive(b.item, a, b.key);
      const PyValue* root = a->root();
      // Megatron stores ShardedObjects as torch.save([obj]); the common state is element 0.
      if (root->is(PyKind::List) && root->items.size() == 1) root = root->items[0];
      return to_json(root, a->what()).dump(-1, ' ', false, Json::error_handler_t::replace);
    }
    return "{}";
  }

  struct Decoded {
    std::unique_ptr<TorchArchive> archive;
    TensorRef ref;
  };
  std::string dir_;
  DcpMetadata meta_;
  std::unordered_map<std::string, std::unique_ptr<MappedFile>> files_;
  std::unordered_map<std::string, size_t> index_;
  std::vector<std::vector<Decoded>> decoded_;
  std::string common_;
};

}  // namespace

int32_t TorchDistFormat::probe(const std::string& dir) {
  const fs::path d(dir);
  std::error_code ec;
  const bool has_meta = fs::is_regular_file(d / ".metadata", ec);
  if (fs::is_regular_file(d / "metadata.json", ec)) {
    try {
      const Json j = Json::parse(read_small_file((d / "metadata.json").string(), 1 << 16));
      if (j.value("sharded_backend", "") == "torch_dist") return has_meta ? 100 : 20;
      return 0;  // another Megatron backend (zarr)
    } catch (const std::exception&) {
      return 0;
    }
  }
  return has_meta ? 60 : 0;  // plain PyTorch DCP without Megatron's descriptor
}

std::unique_ptr<CheckpointWriter> TorchDistFormat::begin_save(const SaveArgs& args) {
  return std::make_unique<DistWriter>(args);
}

void TorchDistFormat::commit_save(const SaveArgs& args) {
  if (!args.is_coordinator()) return;
  const fs::path dir(args.dir);
  const std::string what = "torch_dist commit " + args.dir;
  DcpMetadata m;
  std::map<std::string, size_t> index;
  for (int32_t r = 0; r < args.world_size; ++r) {
    const fs::path side = dir / sidecar_name(r);
    if (!fs::exists(side))
      throw Error(MSW_STATUS_NOT_FOUND, what + ": " + side.filename().string() + " is missing: rank " +
                                            std::to_string(r) + " must finish_save before any rank commits");
    const Json j = parse_json(read_small_file(side.string(), size_t{1} << 31), side.string(), MSW_STATUS_IO);
    if (!j.contains("chunks") || !j["chunks"].is_array())
      throw Error(MSW_STATUS_IO, side.string() + ": no \"chunks\" list (a sidecar this plugin did not write?)");
    for (const Json& c : j["chunks"]) try {
      const std::string key = c.at("key");
      auto [it, fresh] = index.emplace(key, m.tensors.size());
      if (fresh) m.tensors.push_back(DcpTensor{key, c.at("dtype").get<int32_t>(), c.at("shape").get<std::vector<int64_t>>(), {}});
      DcpTensor& t = m.tensors[it->second];
      if (t.dtype != c.at("dtype").get<int32_t>() || t.shape != c.at("shape").get<std::vector<int64_t>>())
        throw Error(MSW_STATUS_SHAPE_MISMATCH, what + ": ranks disagree on the dtype or global shape of '" + key + "'");
      t.chunks.push_back(DcpChunk{c.at("offsets").get<std::vector<int64_t>>(), c.at("sizes").get<std::vector<int64_t>>(),
                                  DcpItem{c.at("file"), c.at("offset"), c.at("length")}});
    } catch (const Json::exception& e) {
      throw Error(MSW_STATUS_IO, side.string() + ": malformed chunk record: " + e.what());
    }
  }
  for (DcpTensor& t : m.tensors) {
    std::sort(t.chunks.begin(), t.chunks.end(), [](const DcpChunk& a, const DcpChunk& b) { return a.offsets < b.offsets; });
    check_tiling(t, true, what);
  }
  const Json common = parse_json(args.common_state_json, what + ": common state", MSW_STATUS_INVALID_ARGUMENT);
  if (!common.is_object()) throw Error(MSW_STATUS_INVALID_ARGUMENT, what + ": common state JSON must be an object");
  PickleWriter w;
  pickle_json(w, common, true);
  w.stop();
  {
    const std::string tmp = (dir / "common.pt.tmp").string();
    OutFile f(tmp);
    write_torch_archive(f, "common", w.bytes_out(), {});
    f.close(!args.async);
    fs::rename(tmp, dir / "common.pt");
  }
  write_file_atomic((dir / ".metadata").string(), write_dcp_metadata(m), !args.async);
  write_file_atomic((dir / "metadata.json").string(), kTorchDistMetadataJson, !args.async);
  for (int32_t r = 0; r < args.world_size; ++r) fs::remove(dir / sidecar_name(r));
}

std::unique_ptr<CheckpointReader> TorchDistFormat::open(const OpenArgs& args) {
  return std::make_unique<DistReader>(args);
}

}  // namespace torchfmt
