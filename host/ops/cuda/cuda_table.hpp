// The CUDA backend's op table, assembled from the op families. Each family file defines its add_*_ops(), which
// sets the table entries it has kernels for; an entry left NULL is reported by the dispatch as an op without a
// CUDA kernel yet.
#pragma once

#include "host/ops/device_ops.hpp"

namespace megaswift::host::ops::cuda_impl {

const DeviceOpTable& cuda_op_table();

void add_elementwise_ops(DeviceOpTable& t);  // fill, copy, add, accumulate, scale, sum_squares
void add_pointwise_ops(DeviceOpTable& t);    // norms, rope, qkv split, activations, embedding
void add_dense_ops(DeviceOpTable& t);        // gemm, linear (cuBLASLt), cross-entropy, optimizer steps
void add_attention_ops(DeviceOpTable& t);    // attention forward/backward, KV-cache attention

}  // namespace megaswift::host::ops::cuda_impl
