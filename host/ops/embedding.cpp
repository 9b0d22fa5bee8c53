#include "host/ops/cpu_ops.hpp"
#include "host/ops/tensor_args.hpp"

#include "kernels/cpu/embedding.hpp"

namespace megaswift::host::ops::cpu_impl {

namespace k = megaswift::kernels::cpu;

namespace {
void check_table(const msw_tensor& table, const char* name) {
  if (table.ndim != 2) fail(MSW_STATUS_SHAPE_MISMATCH, std::string(name) + " is " + describe(table) + ", expected (vocab, dim)");
}
}  // namespace

void embedding_forward(Ctx ctx, T ids, T table, T out) {
  require_index(ids, "ids", ctx.device);
  const auto& tt = require(table, "table", ctx.device);
  check_table(tt, "table");
  const int64_t n = msw_tensor_numel(ids), dim = tt.shape[1];
  require_numel(require(out, "out", ctx.device), "out", n * dim, "one row of the table per id");
  I64In i(*ids);
  F32In w(tt);
  F32Out y(*out, false);
  k::embedding_forward(i.data(), n, w.data(), tt.shape[0], dim, y.data());
  y.commit();
}

void embedding_backward(Ctx ctx, T ids, T dout, T dtable) {
  require_index(ids, "ids", ctx.device);
  const auto& tt = require(dtable, "dtable", ctx.device);
  check_table(tt, "dtable");
  const int64_t n = msw_tensor_numel(ids), dim = tt.shape[1];
  require_numel(require(dout, "dout", ctx.device), "dout", n * dim, "one row per id");
  I64In i(*ids);
  F32In g(*dout);
  F32Out w(tt, true);
  k::embedding_backward(i.data(), n, g.data(), tt.shape[0], dim, w.data());
  w.commit();
}

}  // namespace megaswift::host::ops::cpu_impl
