// Token embedding (vocab-parallel when TP > 1: rows split on dim 0).
#pragma once

#include <megaswift/sdk/ops.hpp>

namespace megaswift::nn {

struct Embedding {
  int64_t vocab = 0;  // rows of the table (the padded vocabulary)
  int64_t dim = 0;

  // ids (N) -> out (N, dim).
  void forward(const sdk::Ops& ops, const msw_tensor& ids, const msw_tensor& table, const msw_tensor& out) const {
    ops.embedding_forward(ids, table, out);
  }
  // dtable += scatter of dout (N, dim) by ids.
  void backward(const sdk::Ops& ops, const msw_tensor& ids, const msw_tensor& dout, const msw_tensor& dtable) const {
    ops.embedding_backward(ids, dout, dtable);
  }
};

}  // namespace megaswift::nn
