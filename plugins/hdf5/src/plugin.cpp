// The hdf5 checkpoint plugin: one component, `hdf5` (hdf5_format.hpp).
#include "hdf5_format.hpp"

#include <megaswift/sdk/plugin.hpp>

MEGASWIFT_PLUGIN("hdf5", "0.1.0",
                 megaswift::sdk::checkpoint_component<megaswift::hdf5::Hdf5Format>(
                     "hdf5", "0.1.0",
                     "HDF5 checkpoints: a file per rank, a dataset per shard with key/shape/offset/dtype "
                     "attributes, an index; readable by h5py"))
