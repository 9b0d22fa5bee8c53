#include "host/ops/shared_checks.hpp"

#include "host/core/host_api.hpp"

#include <string>

namespace megaswift::host::ops {

GemmDims gemm_dims(const msw_tensor& ta, const msw_tensor& tb, const msw_tensor& tc, bool trans_a, bool trans_b) {
  if (ta.ndim != 2 || tb.ndim != 2 || tc.ndim != 2)
    fail(MSW_STATUS_SHAPE_MISMATCH, "a, b and c must be 2-D, got a " + describe(ta) + ", b " + describe(tb) + ", c " +
                                        describe(tc));
  const int64_t m = trans_a ? ta.shape[1] : ta.shape[0];
  const int64_t kk = trans_a ? ta.shape[0] : ta.shape[1];
  const int64_t kb = trans_b ? tb.shape[1] : tb.shape[0];
  const int64_t n = trans_b ? tb.shape[0] : tb.shape[1];
  if (kk != kb || tc.shape[0] != m || tc.shape[1] != n)
    fail(MSW_STATUS_SHAPE_MISMATCH, "op(a) is (" + std::to_string(m) + ", " + std::to_string(kk) + "), op(b) is (" +
                                        std::to_string(kb) + ", " + std::to_string(n) + "), c is " + describe(tc));
  return {m, n, kk};
}

// The vocab-parallel reduction needs collectives on tp_comm, which the ops do not issue yet; a group of one rank
// is the plain cross-entropy over the whole vocabulary.
void refuse_vocab_parallel(const msw_cross_entropy_args& a, const char* backend) {
  if (!a.tp_comm) return;
  const msw_comm_api* comm = host_api().comm;
  if (comm && comm->size && comm->size(a.tp_comm) == 1) return;
  fail(MSW_STATUS_UNSUPPORTED, "vocab-parallel cross-entropy needs the parallel backend: tp_comm is given with " +
                                   (comm && comm->size ? std::to_string(comm->size(a.tp_comm)) + " ranks"
                                                       : std::string("no communicator table installed")) +
                                   ", and the " + backend +
                                   " ops do not all-reduce the max, the sum and the target logit yet "
                                   "(gather the logits, or run with tensor parallelism 1)");
}

KvNewTokens kvcache_new_tokens(int32_t layout, const msw_tensor& tq, const msw_tensor& tk, const msw_tensor& tv,
                               int64_t n, int64_t hkv, int64_t d) {
  if (layout == MSW_ATTN_SBHD) {
    if (tq.ndim != 4 || tq.shape[1] != n || tq.shape[3] != d)
      fail(MSW_STATUS_SHAPE_MISMATCH, "q is " + describe(tq) + ", expected (S, N = " + std::to_string(n) +
                                          ", q heads, " + std::to_string(d) + ") for the SBHD layout");
    const int64_t s = tq.shape[0];
    require_shape(tk, "k_new", {s, n, hkv, d});
    require_shape(tv, "v_new", {s, n, hkv, d});
    return {tq.shape[2], s};
  }
  if (tq.ndim != 3 || tq.shape[2] != d)
    fail(MSW_STATUS_SHAPE_MISMATCH, "q is " + describe(tq) + ", expected (T, q heads, " + std::to_string(d) +
                                        ") for the THD layout");
  const int64_t t = tq.shape[0];
  require_shape(tk, "k_new", {t, hkv, d});
  require_shape(tv, "v_new", {t, hkv, d});
  return {tq.shape[1], t};
}

}  // namespace megaswift::host::ops
