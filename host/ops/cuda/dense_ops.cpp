#include "host/ops/cuda/cuda_table.hpp"

namespace megaswift::host::ops::cuda_impl {

// No kernels of this family yet: the dispatch reports each of its ops as without a CUDA kernel.
void add_dense_ops(DeviceOpTable&) {}

}  // namespace megaswift::host::ops::cuda_impl
