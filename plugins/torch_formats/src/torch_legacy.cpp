#include "torch_legacy.hpp"

#include "common_state.hpp"
#include "io.hpp"
#include "shard_data.hpp"
#include "torch_save.hpp"

#include <cctype>
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

constexpr const char* kRankDir = "mp_rank_00";
constexpr const char* kFile = "model_optim_rng.pt";
constexpr const char* kLayers = "decoder.layers.";

bool is_optimizer_key(const std::string& k) { return k.rfind("optimizer.", 0) == 0; }

struct Entry {
  std::string key;  // legacy key
  int32_t dtype;
  std::vector<int64_t> shape;
  std::string storage;
};

class LegacyWriter final : public CheckpointWriter {
 public:
  explicit LegacyWriter(const SaveArgs& a) : args_(a) {
    if (a.world_size != 1)
      throw Error(MSW_STATUS_UNSUPPORTED, "torch (legacy) format: written by one rank holding whole tensors "
                                          "(mp_rank_00); gather the shards first or save with torch_dist");
    common_ = parse_json(a.common_state_json, "torch format: common state", MSW_STATUS_INVALID_ARGUMENT);
    if (!common_.is_object()) throw Error(MSW_STATUS_INVALID_ARGUMENT, "torch format: common state JSON must be an object");
    for (const char* reserved : {"model", "sharded_optimizer"})
      if (common_.contains(reserved))
        throw Error(MSW_STATUS_INVALID_ARGUMENT, std::string("torch format: the common state may not have a '") +
                                                     reserved + "' member (the tensors go there)");
    const fs::path d = fs::path(a.dir) / kRankDir;
    fs::create_directories(d);
    out_ = std::make_unique<OutFile>((d / kFile).string());
    zip_ = std::make_unique<ZipWriter>(*out_);
  }

  void write(const std::vector<Shard>& shards) override {
    for (const Shard& s : shards) {
      if (s.replica_id != 0) continue;
      const DenseBytes bytes = dense_bytes(s.data, s.key);
      const std::vector<int64_t> sizes(s.data.shape, s.data.shape + s.data.ndim);
      const size_t split = stacked_layer_split(s.key);
      bool whole = sizes == s.global_shape;
      if (split != std::string::npos && !sizes.empty()) {
        // Whole layers of a stacked key: every dimension but the first is complete.
        bool layers = true;
        for (size_t d = 1; d < sizes.size(); ++d) layers = layers && sizes[d] == s.global_shape[d] && s.global_offset[d] == 0;
        if (layers) {
          const std::vector<int64_t> layer_shape(sizes.begin() + 1, sizes.end());
          const size_t layer_bytes = sizes[0] ? bytes.size / static_cast<size_t>(sizes[0]) : 0;
          for (int64_t i = 0; i < sizes[0]; ++i) {
            const std::string key = s.key.substr(0, split) + std::to_string(s.global_offset[0] + i) + "." + s.key.substr(split);
            add(key, s.data.dtype, layer_shape, bytes.data + static_cast<size_t>(i) * layer_bytes, layer_bytes);
          }
          continue;
        }
      }
      if (!whole)
        throw Error(MSW_STATUS_UNSUPPORTED, "torch format: shard of '" + s.key + "' " +
                                                megaswift::sdk::shape_string(s.data) +
                                                " is part of its tensor; this format stores whole tensors (or whole "
                                                "layers of a stacked key): gather first or save with torch_dist");
      add(s.key, s.data.dtype, sizes, bytes.data, bytes.size);
    }
  }

  void finish() override {
    PickleWriter w;
    w.empty_dict();
    w.mark();
    for (auto it = common_.begin(); it != common_.end(); ++it) pickle_common_member(w, it.key(), it.value());
    for (int part = 0; part < 2; ++part) {
      w.str(part == 0 ? "model" : "sharded_optimizer");
      w.global("collections", "OrderedDict");
      w.empty_tuple();
      w.reduce();
      bool any = false;
      for (const Entry& e : entries_) {
        if (is_optimizer_key(e.key) != (part == 1)) continue;
        if (!any) w.mark();
        any = true;
        w.str(e.key);
        pickle_tensor(w, e.dtype, e.shape, e.storage);
      }
      if (any) w.setitems();
    }
    w.setitems();
    w.stop();
    const std::string folder = "model_optim_rng";
    zip_->add(folder + "/data.pkl", w.bytes_out());
    zip_->add(folder + "/.format_version", std::string_view("1"));
    zip_->add(folder + "/.storage_alignment", std::string_view("64"));
    zip_->add(folder + "/byteorder", std::string_view("little"));
    write_archive_tail(*zip_, folder);
    out_->close(!args_.async);
  }

 private:
  void add(const std::string& key, int32_t dtype, const std::vector<int64_t>& shape, const uint8_t* data, size_t n) {
    if (!seen_.emplace(key, true).second)
      throw Error(MSW_STATUS_INVALID_ARGUMENT, "torch format: tensor '" + key + "' was written twice");
    torch_storage_class(dtype);  // refuses dtypes torch has no storage for
    const std::string storage = std::to_string(entries_.size());
    zip_->add("model_optim_rng/data/" + storage, data, n);
    entries_.push_back({key, dtype, shape, storage});
  }

  SaveArgs args_;
  Json common_;
  std::unique_ptr<OutFile> out_;
  std::unique_ptr<ZipWriter> zip_;
  std::vector<Entry> entries_;
  std::unordered_map<std::string, bool> seen_;
};

struct Part {
  int64_t layer;  // -1: the tensor is stored whole
  TensorRef ref;
};

struct Global {
  std::string key;
  int32_t dtype;
  std::vector<int64_t> shape;
  std::vector<Part> parts;
};

class LegacyReader final : public CheckpointReader {
 public:
  explicit LegacyReader(const OpenArgs& a) : path_((fs::path(a.dir) / kRankDir / kFile).string()), file_(path_) {
    archive_ = std::make_unique<TorchArchive>(file_.data(), file_.size(), path_);
    const PyValue* root = archive_->root();
    if (!root->is(PyKind::Dict)) throw Error(MSW_STATUS_IO, path_ + ": the top-level object is not a dict");
    Json common = Json::object();
    std::vector<std::pair<std::string, const PyValue*>> tensors;
    for (size_t k = 0; k + 1 < root->items.size(); k += 2) {
      const std::string& name = as_str(root->items[k], path_ + ": top-level key");
      const PyValue* v = root->items[k + 1];
      if (name == "model" || name == "model0" || name == "sharded_optimizer") {
        if (!v->is(PyKind::Dict)) throw Error(MSW_STATUS_IO, path_ + ": '" + name + "' is not a dict");
        for (size_t j = 0; j + 1 < v->items.size(); j += 2)
          if (TorchArchive::is_tensor(v->items[j + 1]))
            tensors.emplace_back(as_str(v->items[j], path_ + ": " + name + " key"), v->items[j + 1]);
      } else {
        common[name] = to_json(v, path_);
      }
    }
    common_ = common.dump(-1, ' ', false, Json::error_handler_t::replace);
    restack(tensors);
  }

  std::string common_state_json() const override { return common_; }
  size_t tensor_count() const override { return globals_.size(); }
  TensorInfo tensor_info(size_t i) const override {
    const Global& g = globals_.at(i);
    return TensorInfo{g.key, g.dtype, g.shape};
  }

  void read_region(const std::string& key, const std::vector<int64_t>& offset, const msw_tensor& out) override {
    auto it = index_.find(key);
    if (it == index_.end()) throw Error(MSW_STATUS_NOT_FOUND, "torch format " + path_ + ": no tensor '" + key + "'");
    const Global& g = globals_[it->second];
    check_region_request(key, g.dtype, g.shape, offset, out);
    for (const Part& p : g.parts) {
      ChunkView v{p.ref.data, p.ref.dtype, std::vector<int64_t>(g.shape.size(), 0), p.ref.shape, p.ref.strides};
      if (p.layer >= 0) {
        v.offset[0] = p.layer;
        v.shape.insert(v.shape.begin(), 1);
        v.strides.insert(v.strides.begin(), 0);
      }
      copy_intersection(v, offset, out);
    }
    file_.drop_resident_pages();
  }

 private:
  void restack(const std::vector<std::pair<std::string, const PyValue*>>& tensors) {
    // Group "<prefix>decoder.layers.<i>.<rest>" by (prefix, rest).
    std::map<std::string, std::map<int64_t, TensorRef>> stacks;
    std::vector<std::pair<std::string, TensorRef>> plain;
    for (const auto& [key, v] : tensors) {
      TensorRef ref = archive_->tensor(v);
      const size_t at = key.find(kLayers);
      if (at != std::string::npos) {
        const size_t num = at + std::char_traits<char>::length(kLayers);
        size_t end = num;
        while (end < key.size() && std::isdigit(static_cast<unsigned char>(key[end]))) ++end;
        if (end > num && end < key.size() && key[end] == '.' && end - num < 9) {
          stacks[key.substr(0, num) + key.substr(end + 1)][std::stoll(key.substr(num, end - num))] = ref;
          continue;
        }
      }
      plain.emplace_back(key, ref);
    }
    for (auto& [key, ref] : plain) add({key, ref.dtype, ref.shape, {Part{-1, ref}}});
    for (auto& [key, layers] : stacks) {
      const TensorRef& first = layers.begin()->second;
      bool uniform = layers.begin()->first == 0 && layers.rbegin()->first == static_cast<int64_t>(layers.size()) - 1;
      for (const auto& [i, r] : layers) uniform = uniform && r.dtype == first.dtype && r.shape == first.shape;
      const size_t split = key.find(kLayers) + std::char_traits<char>::length(kLayers);
      if (!uniform || first.shape.size() + 1 > MSW_MAX_DIMS) {  // keep per-layer keys
        for (const auto& [i, r] : layers)
          add({key.substr(0, split) + std::to_string(i) + "." + key.substr(split), r.dtype, r.shape, {Part{-1, r}}});
        continue;
      }
      Global g{key, first.dtype, first.shape, {}};
      g.shape.insert(g.shape.begin(), static_cast<int64_t>(layers.size()));
      for (const auto& [i, r] : layers) g.parts.push_back(Part{i, r});
      add(std::move(g));
    }
  }

  void add(Global g) {
    if (!index_.emplace(g.key, globals_.size()).second)
      throw Error(MSW_STATUS_IO, path_ + ": tensor key '" + g.key + "' appears twice");
    globals_.push_back(std::move(g));
  }

  std::string path_;
  MappedFile file_;
  std::unique_ptr<TorchArchive> archive_;
  std::string common_;
  std::vector<Global> globals_;
  std::unordered_map<std::string, size_t> index_;
};

}  // namespace

size_t stacked_layer_split(const std::string& key) {
  const size_t at = key.find(kLayers);
  if (at == std::string::npos) return std::string::npos;
  const size_t next = at + std::char_traits<char>::length(kLayers);
  if (next >= key.size() || std::isdigit(static_cast<unsigned char>(key[next]))) return std::string::npos;
  return next;
}

int32_t TorchLegacyFormat::probe(const std::string& dir) {
  std::error_code ec;
  return fs::is_regular_file(fs::path(dir) / kRankDir / kFile, ec) ? 100 : 0;
}

std::unique_ptr<CheckpointWriter> TorchLegacyFormat::begin_save(const SaveArgs& args) {
  return std::make_unique<LegacyWriter>(args);
}

void TorchLegacyFormat::commit_save(const SaveArgs& args) { (void)args; }  // one file, complete at finish_save

std::unique_ptr<CheckpointReader> TorchLegacyFormat::open(const OpenArgs& args) {
  return std::make_unique<LegacyReader>(args);
}

}  // namespace torchfmt
