// The zarr checkpoint plugin: one component, `zarr` (Megatron-Core's zarr sharded layout; zarr_format.hpp).
#include "zarr_format.hpp"

#include <megaswift/sdk/plugin.hpp>

MEGASWIFT_PLUGIN("zarr", "0.1.0",
                 megaswift::sdk::checkpoint_component<megaswift::zarr::ZarrFormat>(
                     "zarr", "0.1.0",
                     "Megatron-Core zarr layout: one zarr v2 array per tensor, chunk = shard, readable by zarr-python"))
