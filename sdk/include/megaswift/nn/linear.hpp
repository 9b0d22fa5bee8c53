// Linear layer y = x W^T + b with its tensor-parallel role. The role is carried (and reported in the parameter
// table as the split dimension) even while TP = 1, so adding TP changes this block, not the models using it.
#pragma once

#include <megaswift/sdk/ops.hpp>

#include <cstddef>

namespace megaswift::nn {

enum class TpRole {
  column,  // output features split across ranks (qkv, fc1): W split on dim 0
  row      // input features split across ranks (proj, fc2): W split on dim 1, outputs all-reduced
};

struct Linear {
  int64_t in_features = 0;
  int64_t out_features = 0;
  bool bias = false;
  TpRole role = TpRole::column;

  int32_t tp_split_dim() const { return role == TpRole::column ? 0 : 1; }

  // x (R, in) -> y (R, out).
  void forward(const sdk::Ops& ops, const msw_tensor& x, const msw_tensor& weight, const msw_tensor* b,
               const msw_tensor& y) const {
    require_single_rank(ops);
    ops.linear_forward(x, weight, bias ? b : nullptr, y);
  }

  // dx written (or added with accumulate_dx); dweight/dbias accumulate; NULL pointers skip.
  void backward(const sdk::Ops& ops, const msw_tensor& x, const msw_tensor& weight, const msw_tensor& dy,
                const msw_tensor* dx, const msw_tensor* dweight, const msw_tensor* dbias,
                bool accumulate_dx = false) const {
    require_single_rank(ops);
    ops.linear_backward(x, weight, dy, dx, dweight, bias ? dbias : nullptr, accumulate_dx);
  }

 private:
  static void require_single_rank(const sdk::Ops& ops) {
    if (ops.ctx().struct_size > offsetof(msw_exec_ctx, tp_comm) && ops.ctx().tp_comm)
      throw sdk::Error(MSW_STATUS_UNSUPPORTED, "nn::Linear: tensor parallelism (a tp_comm in the context) is not "
                                               "implemented yet; run with --tensor_model_parallel_size 1");
  }
};

}  // namespace megaswift::nn
