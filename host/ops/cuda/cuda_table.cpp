#include "host/ops/cuda/cuda_table.hpp"

namespace megaswift::host::ops::cuda_impl {

const DeviceOpTable& cuda_op_table() {
  static const DeviceOpTable table = [] {
    DeviceOpTable t;
    add_elementwise_ops(t);
    add_pointwise_ops(t);
    add_dense_ops(t);
    add_attention_ops(t);
    return t;
  }();
  return table;
}

}  // namespace megaswift::host::ops::cuda_impl
