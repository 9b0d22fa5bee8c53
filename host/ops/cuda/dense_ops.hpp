// What the dense family's host files share (dense_ops.cpp: gemm and linear; cross_entropy_ops.cpp;
// optimizer_ops.cpp): seeing a tensor as a row-major matrix in place, staging one into a dense converted copy
// when it cannot be, and the entries add_dense_ops() installs from the other two files.
#pragma once

#include "host/ops/cuda/cuda_args.hpp"

#include "kernels/cuda/gemm.hpp"

#include <optional>

namespace megaswift::host::ops::cuda_impl::dense {

// `t` (rows * cols elements, floating) as a rows x cols row-major matrix in its own memory: dense, or with a
// dense last dimension of `cols` elements and leading dimensions that flatten to one row stride >= cols (a
// column block of a wider matrix, a view of every other row). nullopt for any other layout.
std::optional<kc::Matrix> matrix_view(const msw_tensor& t, const char* name, int64_t rows, int64_t cols);

// A dense copy of `t` converted to `dtype` in stream-ordered scratch, seen as a rows x cols matrix: the
// staging of a tensor a kernel cannot read in place (another dtype, a layout matrix_view refuses). With `load`
// the copy is made at construction (an input, or an output that is added to); write_back() converts it into
// `t` (an output).
class Staged {
 public:
  Staged(Ctx ctx, const msw_tensor& t, kc::Dtype dtype, int64_t rows, int64_t cols, bool load);
  const kc::Matrix& matrix() const { return m_; }
  void write_back() const;

 private:
  const msw_exec_ctx& ctx_;
  const msw_tensor& t_;
  Scratch scratch_;
  kc::Matrix m_;
};

// The matrix view of `t`, or a staged copy of it (made in `holder`) when it has no view or another dtype than
// `want`.
kc::Matrix input_matrix(Ctx ctx, const msw_tensor& t, const char* name, kc::Dtype want, int64_t rows, int64_t cols,
                        std::optional<Staged>& holder);

void cross_entropy_forward(Ctx ctx, const msw_cross_entropy_args& a);
void cross_entropy_backward(Ctx ctx, const msw_cross_entropy_args& a);
void adamw_step(Ctx ctx, const msw_adamw_step_args& a);
void sgd_step(Ctx ctx, const msw_sgd_step_args& a);

}  // namespace megaswift::host::ops::cuda_impl::dense
