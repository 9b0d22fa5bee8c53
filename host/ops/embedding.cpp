// Token embedding, optionally on a vocab-parallel shard of the table (ids outside it give zero rows and are
// skipped backward; the tensor-parallel all-reduce of the output is the caller's).
#include "host/ops/cpu_ops.hpp"
#include "host/ops/tensor_args.hpp"

#include "kernels/cpu/embedding.hpp"

namespace megaswift::host::ops::cpu_impl {

namespace k = megaswift::kernels::cpu;

namespace {
void check_table(const msw_tensor& table, const char* name) {
  if (table.ndim != 2) fail(MSW_STATUS_SHAPE_MISMATCH, std::string(name) + " is " + describe(table) + ", expected (vocab, dim)");
}

void check_vocab_start(int64_t vocab_start) {
  if (vocab_start < 0) fail(MSW_STATUS_INVALID_ARGUMENT, "vocab_start " + std::to_string(vocab_start) + " is negative");
}
}  // namespace

void embedding_forward(Ctx ctx, const msw_embedding_forward_args& a) {
  require_index(&a.ids, "ids", ctx.device);
  const auto& tt = require(&a.table, "table", ctx.device);
  check_table(tt, "table");
  check_vocab_start(a.vocab_start);
  const int64_t n = msw_tensor_numel(&a.ids), dim = tt.shape[1];
  require_numel(require(&a.out, "out", ctx.device), "out", n * dim, "one row of the table per id");
  I64In i(a.ids);
  F32In w(tt);
  F32Out y(a.out, false);
  k::embedding_forward(i.data(), n, w.data(), tt.shape[0], dim, y.data(), a.vocab_start, a.vocab_parallel != 0);
  y.commit();
}

void embedding_backward(Ctx ctx, const msw_embedding_backward_args& a) {
  require_index(&a.ids, "ids", ctx.device);
  const auto& tt = require(&a.dtable, "dtable", ctx.device);
  check_table(tt, "dtable");
  check_vocab_start(a.vocab_start);
  const int64_t n = msw_tensor_numel(&a.ids), dim = tt.shape[1];
  require_numel(require(&a.dout, "dout", ctx.device), "dout", n * dim, "one row per id");
  I64In i(a.ids);
  F32In g(a.dout);
  F32Out w(tt, true);
  k::embedding_backward(i.data(), n, g.data(), tt.shape[0], dim, w.data(), a.vocab_start, a.vocab_parallel != 0);
  w.commit();
}

}  // namespace megaswift::host::ops::cpu_impl
