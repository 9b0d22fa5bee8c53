// The torch_formats plugin library: the `torch_dist` and `torch` checkpoint components.
#include "torch_dist.hpp"
#include "torch_legacy.hpp"

#include <megaswift/sdk/checkpoint.hpp>
#include <megaswift/sdk/plugin.hpp>

MEGASWIFT_PLUGIN("torch_formats", "0.1.0",
                 megaswift::sdk::checkpoint_component<torchfmt::TorchDistFormat>(
                     "torch_dist", "0.1.0", "PyTorch Distributed Checkpoint as Megatron-Core writes it"),
                 megaswift::sdk::checkpoint_component<torchfmt::TorchLegacyFormat>(
                     "torch", "0.1.0", "Megatron legacy mp_rank_00/model_optim_rng.pt (torch.save)"))
