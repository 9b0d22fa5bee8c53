// The `safetensors` checkpoint component: HF-layout safetensors directories (model.safetensors, or shards with
// model.safetensors.index.json) behind the SDK's checkpoint vtable.
//
// Where things go:
//   - tensors: one safetensors tensor per key, whole (shards of a key are assembled; see writer.hpp);
//   - common state: the JSON text under "__metadata__"["megaswift.common_state"] of the first file
//     (model.safetensors or model-00001-of-N), beside "format": "pt" and the marker "megaswift.format";
//   - several ranks: each rank stages its shards in .megaswift-rank-<r>.safetensors (a valid safetensors file
//     whose "__metadata__"["megaswift.pieces"] says where each piece sits in its global tensor); the
//     coordinator's commit_save merges them into the HF layout and removes them. This needs the directory to be
//     visible to the coordinator (a shared filesystem), as Megatron's own formats do.
#include "names.hpp"
#include "reader.hpp"
#include "shard_size.hpp"
#include "writer.hpp"

#include <megaswift/sdk/checkpoint.hpp>

#include <nlohmann/json.hpp>

namespace {

using megaswift::sdk::Error;
namespace sdk = megaswift::sdk;

class SafetensorsWriter final : public sdk::CheckpointWriter {
 public:
  explicit SafetensorsWriter(st::WriterConfig cfg) : writer_(std::move(cfg)) {}
  void write(const std::vector<sdk::Shard>& shards) override {
    for (const sdk::Shard& s : shards)
      if (s.replica_id == 0) writer_.add(s.key, s.global_shape, s.global_offset, s.data);
  }
  void finish() override { writer_.finish(); }

 private:
  st::StreamingWriter writer_;
};

class SafetensorsReader final : public sdk::CheckpointReader {
 public:
  explicit SafetensorsReader(const std::string& dir) : dir_(dir) {}
  std::string common_state_json() const override { return dir_.common_state_json(); }
  size_t tensor_count() const override { return dir_.tensor_count(); }
  sdk::TensorInfo tensor_info(size_t index) const override {
    if (index >= dir_.tensor_count())
      throw Error(MSW_STATUS_INVALID_ARGUMENT, "tensor_info: index " + std::to_string(index) + " is outside [0, " +
                                                   std::to_string(dir_.tensor_count()) + ")");
    const st::TensorEntry& t = *dir_.tensor(index).entry;
    return {t.name, t.dtype.msw, t.shape};
  }
  void read_region(const std::string& key, const std::vector<int64_t>& offset, const msw_tensor& out) override {
    dir_.read_region(key, offset, out);
  }

 private:
  st::DirectoryReader dir_;
};

class SafetensorsFormat final : public sdk::CheckpointFormat {
 public:
  explicit SafetensorsFormat(std::string_view config_json) {
    nlohmann::json cfg;
    try {
      cfg = nlohmann::json::parse(config_json);
    } catch (const nlohmann::json::exception& e) {
      throw Error(MSW_STATUS_INVALID_ARGUMENT, std::string("safetensors: the config is not JSON (") + e.what() + ")");
    }
    const auto args = cfg.is_object() ? cfg.find("args") : cfg.end();
    if (args == cfg.end() || !args->is_object()) return;
    const auto m = args->find("max_shard_size");
    if (m == args->end() || m->is_null()) return;
    if (m->is_number_unsigned() && m->get<uint64_t>() > 0) max_shard_size_ = m->get<uint64_t>();
    else if (m->is_string()) max_shard_size_ = st::parse_shard_size(m->get<std::string>());
    else throw Error(MSW_STATUS_INVALID_ARGUMENT, "safetensors: args.max_shard_size is " + m->dump() +
                                                      "; expected a size such as \"5GB\" or a positive byte count");
  }

  // 100: a directory we wrote (our marker); 50: any other HF safetensors directory (a model to import);
  // 10: safetensors file names whose header does not validate (open then reports what is wrong); 0: none.
  int32_t probe(const std::string& dir) override {
    if (!st::path_exists(st::join(dir, st::kIndexFile)) && !st::path_exists(st::join(dir, st::kSingleFile))) return 0;
    try {
      return st::DirectoryReader(dir).written_by_megaswift() ? 100 : 50;
    } catch (const std::exception&) {
      return 10;
    }
  }

  std::unique_ptr<sdk::CheckpointWriter> begin_save(const sdk::SaveArgs& args) override {
    st::WriterConfig cfg;
    cfg.dir = args.dir;
    cfg.rank = args.rank;
    if (args.world_size > 1) {
      cfg.staging = true;  // merged by the coordinator in commit_save
    } else {
      cfg.max_shard_size = max_shard_size_;
      cfg.first_file_metadata = first_metadata(args);
    }
    return std::make_unique<SafetensorsWriter>(std::move(cfg));
  }

  void commit_save(const sdk::SaveArgs& args) override {
    if (args.world_size <= 1 || !args.is_coordinator()) return;
    st::WriterConfig cfg;
    cfg.dir = args.dir;
    cfg.rank = args.rank;
    cfg.max_shard_size = max_shard_size_;
    cfg.first_file_metadata = first_metadata(args);
    st::merge_rank_files(args.dir, args.world_size, std::move(cfg));
  }

  std::unique_ptr<sdk::CheckpointReader> open(const sdk::OpenArgs& args) override {
    return std::make_unique<SafetensorsReader>(args.dir);
  }

 private:
  static std::map<std::string, std::string> first_metadata(const sdk::SaveArgs& args) {
    return {{st::kMetaMarker, st::kMarkerValue}, {st::kMetaCommonState, args.common_state_json}};
  }

  uint64_t max_shard_size_ = st::kDefaultMaxShardSize;
};

}  // namespace

MEGASWIFT_PLUGIN("safetensors", "0.1.0",
                 megaswift::sdk::checkpoint_component<SafetensorsFormat>(
                     "safetensors", "0.1.0",
                     "HF safetensors directories (model.safetensors or shards with model.safetensors.index.json)"))
