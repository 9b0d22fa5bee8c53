// Tensors of any rank for the attention tests: a CPU f32 tensor over a vector and a GPU tensor of a dtype, each
// with a dense shape (the ops table's tensor helpers make flat ones).
#pragma once

#include "cuda_op_support.hpp"

#include <cstdint>
#include <vector>

namespace cuda_ops_test {

using Shape = std::vector<int64_t>;

inline int64_t numel(const Shape& s) {
  int64_t n = 1;
  for (int64_t x : s) n *= x;
  return n;
}

inline void set_shape(msw_tensor& t, const Shape& s) {
  msw_tensor_set_dense_shape(&t, static_cast<int32_t>(s.size()), s.data());
}

inline msw_tensor cpu_tensor(ops_test::FVec& v, const Shape& s) {
  msw_tensor t = ops_table::f32(v, {static_cast<int64_t>(v.size())});
  set_shape(t, s);
  return t;
}

// A GPU tensor of `dtype` holding `values` with shape `s`.
struct Gpu : GpuTensor {
  Gpu(const ops_test::FVec& values, int32_t dtype, const Shape& s)
      : GpuTensor(values, dtype, {static_cast<int64_t>(values.size())}) {
    set_shape(t, s);
  }
};

}  // namespace cuda_ops_test
