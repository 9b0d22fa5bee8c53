// `torch`: Megatron's legacy checkpoint, <iter dir>/mp_rank_00/model_optim_rng.pt, one torch.save archive
// (formats.md 3.1-3.4).
//
// The top-level dict holds the common state's members (args as argparse.Namespace, checkpoint_version,
// iteration, opt_param_scheduler, rng_state, ...) and "model": an OrderedDict of Megatron module paths ->
// tensors. Stacked keys with a layer axis ("decoder.layers.<name>" of shape (L, ...), per-layer shards at
// offset [i, 0, ...]) are written per layer as the legacy format has them ("decoder.layers.<i>.<name>"),
// and restacked on reading when layers 0..L-1 are all present with one dtype and shape. Keys that start
// with "optimizer." are kept apart under "sharded_optimizer" (our own member: the legacy optimizer
// state_dict is keyed by parameter index, which the host does not use), so "model" stays what Megatron
// loads.
//
// The file holds whole tensors of one model-parallel rank (mp_rank_00: TP = PP = 1): shards must cover
// their tensor (or whole layers of a stacked one), and one rank writes it (world_size 1; the host gathers
// first). Storages are streamed into the archive as shards arrive and data.pkl is written at the end,
// which torch.load accepts because it finds records through the central directory.
#pragma once

#include <megaswift/sdk/checkpoint.hpp>

namespace torchfmt {

class TorchLegacyFormat final : public megaswift::sdk::CheckpointFormat {
 public:
  explicit TorchLegacyFormat(std::string_view config_json) { (void)config_json; }
  int32_t probe(const std::string& dir) override;
  std::unique_ptr<megaswift::sdk::CheckpointWriter> begin_save(const megaswift::sdk::SaveArgs& args) override;
  void commit_save(const megaswift::sdk::SaveArgs& args) override;
  std::unique_ptr<megaswift::sdk::CheckpointReader> open(const megaswift::sdk::OpenArgs& args) override;
};

// "decoder.layers.self_attention.x" -> the position after "decoder.layers." when the next part is not a
// layer number (a stacked key); npos otherwise.
size_t stacked_layer_split(const std::string& key);

}  // namespace torchfmt
