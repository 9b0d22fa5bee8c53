// `torch_dist`: PyTorch Distributed Checkpoint as Megatron-Core writes it (formats.md 1.x).
//
// Saving: every rank appends each of its shards (replica 0 only) to __<rank>_0.distcp as a standalone
// torch.save archive of exactly the shard (DCP's TORCH_SAVE item layout), and in finish_save writes a
// small sidecar .rank<r>.meta (JSON) listing its chunks. commit_save on the coordinator merges every
// rank's sidecar from the shared directory (the host barriers between finish_save and commit_save, so the
// gather needs no communicator and works with comm == NULL), checks that the chunks of each tensor tile it
// without overlap, writes .metadata (pickled Metadata, protocol 2), common.pt (torch.save of the common
// dict, args as argparse.Namespace), metadata.json last, and deletes the sidecars.
//
// Reading: .metadata locates every chunk; a region is served from all the chunks it intersects. The
// common state comes from common.pt, or (Megatron core >= 0.19) from the `common_state` bytes item.
#pragma once

#include <megaswift/sdk/checkpoint.hpp>

namespace torchfmt {

class TorchDistFormat final : public megaswift::sdk::CheckpointFormat {
 public:
  explicit TorchDistFormat(std::string_view config_json) { (void)config_json; }
  int32_t probe(const std::string& dir) override;
  std::unique_ptr<megaswift::sdk::CheckpointWriter> begin_save(const megaswift::sdk::SaveArgs& args) override;
  void commit_save(const megaswift::sdk::SaveArgs& args) override;
  std::unique_ptr<megaswift::sdk::CheckpointReader> open(const megaswift::sdk::OpenArgs& args) override;
};

// The exact metadata.json text Megatron writes (Python's json.dump of CheckpointingConfig).
inline constexpr const char* kTorchDistMetadataJson =
    "{\"sharded_backend\": \"torch_dist\", \"sharded_backend_version\": 1, \"common_backend\": \"torch\", "
    "\"common_backend_version\": 1}";

}  // namespace torchfmt
