// The pointwise family on the GPU: norms (norm_ops.cpp), RoPE (rope_ops.cpp), and here the QKV split, SwiGLU,
// GELU and the token embedding, each with the checks of its CPU op (host/ops/attention.cpp, activation.cpp,
// embedding.cpp), then one launch sequence on ctx's stream; add_pointwise_ops registers them all.
#include "host/ops/cuda/pointwise_ops.hpp"

#include "host/ops/cuda/cuda_table.hpp"
#include "host/ops/rope_args.hpp"

#include "kernels/cuda/activation.hpp"
#include "kernels/cuda/embedding.hpp"
#include "kernels/cuda/qkv_split.hpp"
#include "kernels/cuda/rope.hpp"

#include <algorithm>
#include <cstdint>
#include <optional>
#include <string>

namespace megaswift::host::ops::cuda_impl {

void require_same_dtype(const msw_tensor& t, const char* name, const msw_tensor& ref, const char* ref_name) {
  if (t.dtype != ref.dtype)
    fail(MSW_STATUS_UNSUPPORTED, std::string(name) + " is " + describe(t) + " but " + ref_name + " is " + describe(ref) +
                                     ": the CUDA kernel takes one dtype for both (convert with ops.copy)");
}

const msw_tensor& require_dense_f32(Ctx ctx, const msw_tensor* t, const char* name) {
  const auto& r = require_dense_float(ctx, t, name);
  if (r.dtype != MSW_DTYPE_F32)
    fail(MSW_STATUS_UNSUPPORTED, std::string(name) + " is " + describe(r) + ": it is F32 (ops.h), as the CUDA kernels read it");
  return r;
}

namespace {

using T = const msw_tensor*;

// ---- QKV split ----

struct SplitDims {
  int64_t rows, q_heads, kv_heads, head_dim;
};

// q (R, Hq, D) or more leading dimensions; k and v likewise with Hkv heads; qkv (R, Hkv*(Hq/Hkv+2)*D).
SplitDims split_dims(Ctx ctx, T q, T k, T v, T qkv, const char* qn, const char* kn, const char* vn, const char* qkvn) {
  const auto& tq = require_dense_float(ctx, q, qn);
  const auto& tk = require_dense_float(ctx, k, kn);
  const auto& tv = require_dense_float(ctx, v, vn);
  const auto& tqkv = require_dense_float(ctx, qkv, qkvn);
  if (tq.ndim < 2 || tk.ndim < 2)
    fail(MSW_STATUS_SHAPE_MISMATCH, std::string(qn) + " and " + kn + " must end in (heads, head_dim)");
  SplitDims d{rows_of(tq) / std::max<int64_t>(tq.shape[tq.ndim - 2], 1), tq.shape[tq.ndim - 2], tk.shape[tk.ndim - 2],
              tq.shape[tq.ndim - 1]};
  if (d.kv_heads <= 0 || d.q_heads % d.kv_heads != 0)
    fail(MSW_STATUS_SHAPE_MISMATCH, std::to_string(d.q_heads) + " query heads cannot be grouped over " +
                                        std::to_string(d.kv_heads) + " kv heads");
  if (d.q_heads <= 0 || d.head_dim <= 0)  // what kernels/cpu's split refuses
    fail(MSW_STATUS_INVALID_ARGUMENT, std::string(qn) + " is " + describe(tq) + ": heads and head_dim must be positive");
  require_numel(tk, kn, d.rows * d.kv_heads * d.head_dim, "rows x kv heads x head_dim");
  require_numel(tv, vn, d.rows * d.kv_heads * d.head_dim, "rows x kv heads x head_dim");
  const int64_t width = d.kv_heads * (d.q_heads / d.kv_heads + 2) * d.head_dim;
  if (last_dim(tqkv) != width || rows_of(tqkv) != d.rows)
    fail(MSW_STATUS_SHAPE_MISMATCH, std::string(qkvn) + " is " + describe(tqkv) + ", expected " +
                                        std::to_string(d.rows) + " rows of " + std::to_string(width) +
                                        " = kv_heads * (q_heads / kv_heads + 2) * head_dim");
  require_same_dtype(tq, qn, tqkv, qkvn);
  require_same_dtype(tk, kn, tqkv, qkvn);
  require_same_dtype(tv, vn, tqkv, qkvn);
  return d;
}

void qkv_split(Ctx ctx, const msw_qkv_split_args& a, bool backward) {
  const char* qn = backward ? "dq" : "q";
  const char* kn = backward ? "dk" : "k";
  const SplitDims d = split_dims(ctx, &a.q, &a.k, &a.v, &a.qkv, qn, kn, backward ? "dv" : "v", backward ? "dqkv" : "qkv");
  const kc::Dtype dt = float_dtype(a.qkv, "qkv");
  if (!ops::split_has_rope(a)) {
    use_device(ctx);
    kc::qkv_split(data_of(a.qkv), data_of(a.q), data_of(a.k), data_of(a.v), dt, d.rows, d.q_heads, d.kv_heads,
                  d.head_dim, backward, stream_of(ctx));
    return;
  }
  // RoPE rides on the move: the tables are checked against q and k as rope_forward checks them.
  const auto& tc = require_dense_f32(ctx, &a.cos, "cos");
  const auto& ts = require_dense_f32(ctx, &a.sin, "sin");
  const ops::RopeDims r = ops::split_rope_dims(a, qn, kn, tc, ts);
  use_device(ctx);
  const auto* cos = static_cast<const float*>(data_of(tc));
  const auto* sin = static_cast<const float*>(data_of(ts));
  const auto s = stream_of(ctx);
  if (kc::qkv_split_rope(data_of(a.qkv), data_of(a.q), data_of(a.k), data_of(a.v), dt, d.rows, d.q_heads, d.kv_heads,
                         d.head_dim, cos, sin, r.rotary_dim, r.rows_per_position, backward, s))
    return;
  // No packed kernel for this geometry: the move and the rotation in two passes (the same bits).
  const int64_t tokens = r.tokens;
  if (!backward) {
    kc::qkv_split(data_of(a.qkv), data_of(a.q), data_of(a.k), data_of(a.v), dt, d.rows, d.q_heads, d.kv_heads, d.head_dim,
                  false, s);
    kc::rope_apply(data_of(a.q), data_of(a.q), dt, cos, sin, tokens, d.q_heads, d.head_dim, r.rotary_dim,
                   r.rows_per_position, false, s);
    kc::rope_apply(data_of(a.k), data_of(a.k), dt, cos, sin, tokens, d.kv_heads, d.head_dim, r.rotary_dim,
                   r.rows_per_position, false, s);
    return;
  }
  // dq and dk are inputs: their inverse rotations go to scratch, which the join then reads.
  const size_t elem = msw_dtype_size(a.q.dtype);
  Scratch rq(ctx, static_cast<size_t>(msw_tensor_numel(&a.q)) * elem), rk(ctx, static_cast<size_t>(msw_tensor_numel(&a.k)) * elem);
  kc::rope_apply(data_of(a.q), rq.data(), dt, cos, sin, tokens, d.q_heads, d.head_dim, r.rotary_dim, r.rows_per_position,
                 true, s);
  kc::rope_apply(data_of(a.k), rk.data(), dt, cos, sin, tokens, d.kv_heads, d.head_dim, r.rotary_dim,
                 r.rows_per_position, true, s);
  kc::qkv_split(data_of(a.qkv), rq.data(), rk.data(), data_of(a.v), dt, d.rows, d.q_heads, d.kv_heads, d.head_dim, true, s);
}

void qkv_split_forward(Ctx ctx, const msw_qkv_split_args& a) { qkv_split(ctx, a, false); }
void qkv_split_backward(Ctx ctx, const msw_qkv_split_args& a) { qkv_split(ctx, a, true); }

// ---- SwiGLU, GELU ----

struct GluDims {
  int64_t rows, cols;
};

// x (R, 2F) = [gate | up]; `half` (R, F).
GluDims glu_dims(Ctx ctx, T x, T half, const char* half_name) {
  const auto& tx = require_dense_float(ctx, x, "x");
  const int64_t width = last_dim(tx);
  if (width % 2 != 0)
    fail(MSW_STATUS_SHAPE_MISMATCH, "x is " + describe(tx) + ": its last dimension must be even ([gate | up])");
  GluDims d{rows_of(tx), width / 2};
  const auto& th = require_dense_float(ctx, half, half_name);
  if (last_dim(th) != d.cols || rows_of(th) != d.rows)
    fail(MSW_STATUS_SHAPE_MISMATCH, std::string(half_name) + " is " + describe(th) + ", expected " +
                                        std::to_string(d.rows) + " rows of " + std::to_string(d.cols) +
                                        " (half the width of x " + describe(tx) + ")");
  if (d.cols <= 0)  // kernels/cpu refuses an empty half
    fail(MSW_STATUS_INVALID_ARGUMENT, "x is " + describe(tx) + ": gate and up need at least one column");
  require_same_dtype(th, half_name, tx, "x");
  return d;
}

void swiglu_forward(Ctx ctx, const msw_swiglu_args& a) {
  const GluDims d = glu_dims(ctx, &a.x, &a.out, "out");
  use_device(ctx);
  kc::swiglu_forward(data_of(a.x), data_of(a.out), float_dtype(a.x, "x"), d.rows, d.cols, stream_of(ctx));
}

void swiglu_backward(Ctx ctx, const msw_swiglu_args& a) {
  const GluDims d = glu_dims(ctx, &a.x, &a.dout, "dout");
  const auto& tdx = require_dense_float(ctx, &a.dx, "dx");
  require_numel(tdx, "dx", 2 * d.rows * d.cols, "the shape of x");
  require_same_dtype(tdx, "dx", a.x, "x");
  use_device(ctx);
  kc::swiglu_backward(data_of(a.x), data_of(a.dout), data_of(tdx), float_dtype(a.x, "x"), d.rows, d.cols,
                      stream_of(ctx));
}

bool tanh_approximation(int32_t code) {
  if (code == MSW_GELU_EXACT) return false;
  if (code == MSW_GELU_TANH) return true;
  fail(MSW_STATUS_INVALID_ARGUMENT, "unknown GELU approximation code " + std::to_string(code) + " (0 exact, 1 tanh)");
}

void gelu_forward(Ctx ctx, const msw_gelu_args& a) {
  const auto& tx = require_dense_float(ctx, &a.x, "x");
  const auto& ty = require_dense_float(ctx, &a.y, "y");
  require_numel(ty, "y", msw_tensor_numel(&tx), "the shape of x");
  const bool tanh = tanh_approximation(a.approximation);
  require_same_dtype(ty, "y", tx, "x");
  use_device(ctx);
  kc::gelu_forward(data_of(tx), data_of(ty), float_dtype(tx, "x"), msw_tensor_numel(&tx), tanh, stream_of(ctx));
}

void gelu_backward(Ctx ctx, const msw_gelu_args& a) {
  const auto& tx = require_dense_float(ctx, &a.x, "x");
  const auto& tdy = require_dense_float(ctx, &a.dy, "dy");
  const auto& tdx = require_dense_float(ctx, &a.dx, "dx");
  require_numel(tdy, "dy", msw_tensor_numel(&tx), "the shape of x");
  require_numel(tdx, "dx", msw_tensor_numel(&tx), "the shape of x");
  const bool tanh = tanh_approximation(a.approximation);
  require_same_dtype(tdy, "dy", tx, "x");
  require_same_dtype(tdx, "dx", tx, "x");
  use_device(ctx);
  kc::gelu_backward(data_of(tx), data_of(tdy), data_of(tdx), float_dtype(tx, "x"), msw_tensor_numel(&tx), tanh,
                    stream_of(ctx));
}

// ---- embedding ----

// The table (vocab, dim) and vocab_start as host/ops/embedding.cpp and kernels/cpu check them. Ids outside the
// table: see kernels/cuda/embedding.hpp (zero rows and no gradient, whatever vocab_parallel says, since refusing
// them needs a host read of the ids).
void check_table(const msw_tensor& table, const char* name, int64_t vocab_start) {
  if (table.ndim != 2) fail(MSW_STATUS_SHAPE_MISMATCH, std::string(name) + " is " + describe(table) + ", expected (vocab, dim)");
  if (vocab_start < 0) fail(MSW_STATUS_INVALID_ARGUMENT, "vocab_start " + std::to_string(vocab_start) + " is negative");
  if (table.shape[0] <= 0 || table.shape[1] <= 0)
    fail(MSW_STATUS_INVALID_ARGUMENT, std::string(name) + " is " + describe(table) + ": vocab and dim must be positive");
}

void embedding_forward(Ctx ctx, const msw_embedding_forward_args& a) {
  const auto& ids = require_dense_index(ctx, &a.ids, "ids");
  const auto& table = require_dense_float(ctx, &a.table, "table");
  check_table(table, "table", a.vocab_start);
  const int64_t n = msw_tensor_numel(&ids), dim = table.shape[1];
  const auto& out = require_dense_float(ctx, &a.out, "out");
  require_numel(out, "out", n * dim, "one row of the table per id");
  use_device(ctx);
  kc::embedding_forward(data_of(ids), ids.dtype == MSW_DTYPE_I32, n, data_of(table), float_dtype(table, "table"),
                        table.shape[0], dim, data_of(out), float_dtype(out, "out"), a.vocab_start, stream_of(ctx));
}

void embedding_backward(Ctx ctx, const msw_embedding_backward_args& a) {
  const auto& ids = require_dense_index(ctx, &a.ids, "ids");
  const auto& dtable = require_dense_float(ctx, &a.dtable, "dtable");
  check_table(dtable, "dtable", a.vocab_start);
  const int64_t n = msw_tensor_numel(&ids), vocab = dtable.shape[0], dim = dtable.shape[1];
  const auto& dout = require_dense_float(ctx, &a.dout, "dout");
  require_numel(dout, "dout", n * dim, "one row per id");
  if (n >= INT32_MAX || vocab >= INT32_MAX)
    fail(MSW_STATUS_UNSUPPORTED, std::to_string(n) + " ids into " + std::to_string(vocab) +
                                     " rows: the CUDA backward sorts 32-bit keys (both below 2^31 - 1)");
  if (n == 0) return;
  use_device(ctx);
  const size_t bytes = kc::embedding_backward_scratch_bytes(n, vocab);
  Scratch scratch(ctx, bytes);
  kc::embedding_backward(data_of(ids), ids.dtype == MSW_DTYPE_I32, n, data_of(dout), float_dtype(dout, "dout"), vocab,
                         dim, data_of(dtable), float_dtype(dtable, "dtable"), a.vocab_start, scratch.data(), bytes,
                         stream_of(ctx));
}

}  // namespace

void add_pointwise_ops(DeviceOpTable& t) {
  t.embedding_forward = embedding_forward;
  t.embedding_backward = embedding_backward;
  t.rmsnorm_forward = rmsnorm_forward;
  t.rmsnorm_backward = rmsnorm_backward;
  t.layernorm_forward = layernorm_forward;
  t.layernorm_backward = layernorm_backward;
  t.rope_tables = rope_tables;
  t.rope_forward = rope_forward;
  t.rope_backward = rope_backward;
  t.qkv_split_forward = qkv_split_forward;
  t.qkv_split_backward = qkv_split_backward;
  t.swiglu_forward = swiglu_forward;
  t.swiglu_backward = swiglu_backward;
  t.gelu_forward = gelu_forward;
  t.gelu_backward = gelu_backward;
}

}  // namespace megaswift::host::ops::cuda_impl
