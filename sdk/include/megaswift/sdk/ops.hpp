// C++ access to the host's ops table (megaswift/c/ops.h): descriptor builders and an Ops object whose methods
// call the table and throw megaswift::sdk::Error on failure. Header-only, C++17.
//
//   megaswift::sdk::Ops ops(ctx);                       // ctx: the msw_exec_ctx of the current call
//   ops.rmsnorm_forward(x, weight, eps, y, rstd);
#pragma once

#include <megaswift/c/ops.h>
#include <megaswift/sdk/status.hpp>
#include <megaswift/sdk/tensor.hpp>

#include <cstddef>
#include <initializer_list>
#include <string>

namespace megaswift::sdk {

// A dense row-major descriptor over `data`.
inline msw_tensor make_tensor(void* data, int32_t dtype, msw_device device, std::initializer_list<int64_t> shape) {
  if (shape.size() > MSW_MAX_DIMS) throw Error(MSW_STATUS_INVALID_ARGUMENT, "make_tensor: too many dimensions");
  msw_tensor t{};
  t.data = data;
  t.device = device;
  t.dtype = dtype;
  msw_tensor_set_dense_shape(&t, static_cast<int32_t>(shape.size()), shape.begin());
  return t;
}

// The same contiguous storage seen with another shape of the same element count.
inline msw_tensor reshape(const msw_tensor& t, std::initializer_list<int64_t> shape) {
  if (!msw_tensor_is_contiguous(&t))
    throw Error(MSW_STATUS_INVALID_ARGUMENT, "reshape: tensor " + shape_string(t) + " is not contiguous");
  msw_tensor r = make_tensor(t.data, t.dtype, t.device, shape);
  r.byte_offset = t.byte_offset;
  if (msw_tensor_numel(&r) != msw_tensor_numel(&t))
    throw Error(MSW_STATUS_SHAPE_MISMATCH, "reshape: " + shape_string(t) + " cannot be viewed as " + shape_string(r));
  return r;
}

// Elements [begin, begin + count) of dimension `dim` (a strided view; no copy).
inline msw_tensor narrow(const msw_tensor& t, int32_t dim, int64_t begin, int64_t count) {
  if (dim < 0 || dim >= t.ndim || begin < 0 || count < 0 || begin + count > t.shape[dim])
    throw Error(MSW_STATUS_INVALID_ARGUMENT, "narrow: [" + std::to_string(begin) + ", " + std::to_string(begin + count) +
                                                 ") of dimension " + std::to_string(dim) + " of " + shape_string(t));
  msw_tensor r = t;
  r.shape[dim] = count;
  r.byte_offset += static_cast<uint64_t>(begin * t.strides[dim]) * msw_dtype_size(t.dtype);
  return r;
}

class Ops {
 public:
  explicit Ops(const msw_exec_ctx& ctx) : ctx_(&ctx) {
    const msw_host_api& h = host();
    if (!MSW_HOST_HAS(ops) || !h.ops)
      throw Error(MSW_STATUS_UNSUPPORTED, "the host provides no ops table (msw_host_api.ops is NULL)");
    api_ = h.ops;
  }

  const msw_exec_ctx& ctx() const { return *ctx_; }
  const msw_ops_api& api() const { return *api_; }

  // ---- memory and element-wise ----
  void fill(const msw_tensor& out, double value) const {
    auto a = args<msw_fill_args>();
    a.out = out;
    a.value = value;
    check(api_->fill(ctx_, &a));
  }
  void copy(const msw_tensor& src, const msw_tensor& dst) const {
    auto a = args<msw_copy_args>();
    a.src = src;
    a.dst = dst;
    check(api_->copy(ctx_, &a));
  }
  // out = a + alpha * b
  void add(const msw_tensor& x, const msw_tensor& y, const msw_tensor& out, double alpha = 1.0) const {
    auto a = args<msw_add_args>();
    a.a = x;
    a.b = y;
    a.out = out;
    a.alpha = alpha;
    check(api_->add(ctx_, &a));
  }
  void accumulate(const msw_tensor& src, const msw_tensor& dst) const {
    auto a = args<msw_accumulate_args>();
    a.src = src;
    a.dst = dst;
    check(api_->accumulate(ctx_, &a));
  }
  void scale(const msw_tensor& x, double s) const {
    auto a = args<msw_scale_args>();
    a.x = x;
    a.s = s;
    check(api_->scale(ctx_, &a));
  }
  // x *= scale_tensor[0] (a device scalar).
  void scale_by(const msw_tensor& x, const msw_tensor& scale_tensor) const {
    auto a = args<msw_scale_args>();
    a.x = x;
    a.s = 1.0;
    a.scale_tensor = scale_tensor;
    check(api_->scale(ctx_, &a));
  }
  // out[0] (+)= sum of x^2; out is an F32/F64 scalar on the device.
  void sum_squares(const msw_tensor& x, const msw_tensor& out, bool accumulate = false) const {
    auto a = args<msw_sum_squares_args>();
    a.x = x;
    a.out = out;
    a.accumulate = accumulate ? 1 : 0;
    check(api_->sum_squares(ctx_, &a));
  }

  // ---- dense layers ----
  void gemm(bool trans_a, bool trans_b, double alpha, const msw_tensor& a_, const msw_tensor& b_, double beta,
            const msw_tensor& c) const {
    auto a = args<msw_gemm_args>();
    a.trans_a = trans_a;
    a.trans_b = trans_b;
    a.alpha = alpha;
    a.a = a_;
    a.b = b_;
    a.beta = beta;
    a.c = c;
    check(api_->gemm(ctx_, &a));
  }
  void linear_forward(const msw_tensor& x, const msw_tensor& weight, const msw_tensor* bias,
                      const msw_tensor& y) const {
    auto a = args<msw_linear_forward_args>();
    a.x = x;
    a.weight = weight;
    a.bias = opt(bias);
    a.y = y;
    check(api_->linear_forward(ctx_, &a));
  }
  void linear_backward(const msw_tensor& x, const msw_tensor& weight, const msw_tensor& dy, const msw_tensor* dx,
                       const msw_tensor* dweight, const msw_tensor* dbias, bool accumulate_dx = false) const {
    auto a = args<msw_linear_backward_args>();
    a.x = x;
    a.weight = weight;
    a.dy = dy;
    a.dx = opt(dx);
    a.dweight = opt(dweight);
    a.dbias = opt(dbias);
    a.accumulate_dx = accumulate_dx ? 1 : 0;
    check(api_->linear_backward(ctx_, &a));
  }

  // ---- embedding ----
  void embedding_forward(const msw_tensor& ids, const msw_tensor& table, const msw_tensor& out) const {
    auto a = args<msw_embedding_forward_args>();
    a.ids = ids;
    a.table = table;
    a.out = out;
    check(api_->embedding_forward(ctx_, &a));
  }
  void embedding_backward(const msw_tensor& ids, const msw_tensor& dout, const msw_tensor& dtable) const {
    auto a = args<msw_embedding_backward_args>();
    a.ids = ids;
    a.dout = dout;
    a.dtable = dtable;
    check(api_->embedding_backward(ctx_, &a));
  }

  // ---- normalization ----
  // weight_offset: 1 for zero-centred (Gemma-style) weights, y = x / rms(x) * (1 + w).
  // With residual (and x_out): x_out = x + residual, normalized into y.
  void rmsnorm_forward(const msw_tensor& x, const msw_tensor& weight, double eps, const msw_tensor& y,
                       const msw_tensor& rstd, double weight_offset = 0.0, const msw_tensor* residual = nullptr,
                       const msw_tensor* x_out = nullptr) const {
    auto a = args<msw_rmsnorm_forward_args>();
    a.x = x;
    a.weight = weight;
    a.eps = eps;
    a.y = y;
    a.rstd = rstd;
    a.weight_offset = weight_offset;
    a.residual = opt(residual);
    a.x_out = opt(x_out);
    check(api_->rmsnorm_forward(ctx_, &a));
  }
  void rmsnorm_backward(const msw_tensor& x, const msw_tensor& weight, const msw_tensor& rstd, const msw_tensor& dy,
                        const msw_tensor* dx, const msw_tensor* dweight, double weight_offset = 0.0,
                        bool accumulate_dx = false) const {
    auto a = args<msw_rmsnorm_backward_args>();
    a.x = x;
    a.weight = weight;
    a.rstd = rstd;
    a.dy = dy;
    a.dx = opt(dx);
    a.dweight = opt(dweight);
    a.weight_offset = weight_offset;
    a.accumulate_dx = accumulate_dx ? 1 : 0;
    check(api_->rmsnorm_backward(ctx_, &a));
  }
  void layernorm_forward(const msw_tensor& x, const msw_tensor& weight, const msw_tensor* bias, double eps,
                         const msw_tensor& y, const msw_tensor& mean, const msw_tensor& rstd) const {
    auto a = args<msw_layernorm_forward_args>();
    a.x = x;
    a.weight = weight;
    a.bias = opt(bias);
    a.eps = eps;
    a.y = y;
    a.mean = mean;
    a.rstd = rstd;
    check(api_->layernorm_forward(ctx_, &a));
  }
  void layernorm_backward(const msw_tensor& x, const msw_tensor& weight, const msw_tensor& mean,
                          const msw_tensor& rstd, const msw_tensor& dy, const msw_tensor* dx,
                          const msw_tensor* dweight, const msw_tensor* dbias) const {
    auto a = args<msw_layernorm_backward_args>();
    a.x = x;
    a.weight = weight;
    a.mean = mean;
    a.rstd = rstd;
    a.dy = dy;
    a.dx = opt(dx);
    a.dweight = opt(dweight);
    a.dbias = opt(dbias);
    check(api_->layernorm_backward(ctx_, &a));
  }

  // ---- rotary position embedding ----
  int64_t rope_rotary_dim(const msw_rope_config& config) const {
    int64_t out = 0;
    auto a = args<msw_rope_rotary_dim_args>();
    a.config = &config;
    a.out = &out;
    check(api_->rope_rotary_dim(ctx_, &a));
    return out;
  }
  // positions: I64 (P) or NULL for 0..P-1, P = the rows of cos.
  void rope_tables(const msw_rope_config& config, const msw_tensor* positions, const msw_tensor& cos,
                   const msw_tensor& sin) const {
    auto a = args<msw_rope_tables_args>();
    a.config = &config;
    a.positions = opt(positions);
    a.cos = cos;
    a.sin = sin;
    check(api_->rope_tables(ctx_, &a));
  }
  // x (T, H, D) in activation order; table row of token t is t / rows_per_position.
  void rope_forward(const msw_tensor& x, const msw_tensor& cos, const msw_tensor& sin, const msw_tensor& y,
                    int64_t rows_per_position = 1) const {
    auto a = args<msw_rope_args>();
    a.x = x;
    a.cos = cos;
    a.sin = sin;
    a.y = y;
    a.rows_per_position = rows_per_position;
    check(api_->rope_forward(ctx_, &a));
  }
  void rope_backward(const msw_tensor& dy, const msw_tensor& cos, const msw_tensor& sin, const msw_tensor& dx,
                     int64_t rows_per_position = 1) const {
    auto a = args<msw_rope_args>();
    a.x = dy;
    a.cos = cos;
    a.sin = sin;
    a.y = dx;
    a.rows_per_position = rows_per_position;
    check(api_->rope_backward(ctx_, &a));
  }

  // ---- attention ----
  // With rope (tables of rope_forward; a host of ABI 2.4 or newer, see split_carries_rope()): q and k leave
  // rotated, and backward joins their inverse rotation.
  struct SplitRope {
    msw_tensor cos{}, sin{};
    int64_t rows_per_position = 1;
  };
  void qkv_split_forward(const msw_tensor& qkv, const msw_tensor& q, const msw_tensor& k, const msw_tensor& v,
                         const SplitRope* rope = nullptr) const {
    auto a = args<msw_qkv_split_args>();
    a.qkv = qkv;
    a.q = q;
    a.k = k;
    a.v = v;
    put(a, rope);
    check(api_->qkv_split_forward(ctx_, &a));
  }
  void qkv_split_backward(const msw_tensor& dq, const msw_tensor& dk, const msw_tensor& dv, const msw_tensor& dqkv,
                          const SplitRope* rope = nullptr) const {
    auto a = args<msw_qkv_split_args>();
    a.q = dq;
    a.k = dk;
    a.v = dv;
    a.qkv = dqkv;
    put(a, rope);
    check(api_->qkv_split_backward(ctx_, &a));
  }
  // Whether the host reads the split's RoPE members (ABI 2.4): an older host would ignore them and move q and
  // k unrotated. In-process (no plugin entry ran) the host is this build.
  static bool split_carries_rope() { return !detail::g_host || detail::g_host->abi_minor >= 4; }
  // `a` holds layout, q, k, v, out, lse, cu_seqlens_*, max_seqlen_*, scale (and window/softcap); header filled here.
  void attention_forward(msw_attention_args a) const {
    stamp(a);
    check(api_->attention_forward(ctx_, &a));
  }
  // As forward, plus dout, dq, dk, dv.
  void attention_backward(msw_attention_args a) const {
    stamp(a);
    check(api_->attention_backward(ctx_, &a));
  }

  // `a` holds layout, q, k_new, v_new, out, k_cache, v_cache, cache_seqlens (cu_seqlens_q for THD), scale and
  // window/softcap; header filled here. Since ABI 2.3: an older host's table has no entry, which is an
  // UNSUPPORTED error naming the op.
  void attention_kvcache_forward(msw_attention_kvcache_args a) const {
    stamp(a);
    if (api_->struct_size <= offsetof(msw_ops_api, attention_kvcache_forward) || !api_->attention_kvcache_forward)
      throw Error(MSW_STATUS_UNSUPPORTED, "the host's ops table has no attention_kvcache_forward (added in ABI 2.3): "
                                          "KV-cache decoding needs a host of ABI 2.3 or newer");
    check(api_->attention_kvcache_forward(ctx_, &a));
  }

  // ---- activations ----
  void swiglu_forward(const msw_tensor& x, const msw_tensor& out) const {
    auto a = args<msw_swiglu_args>();
    a.x = x;
    a.out = out;
    check(api_->swiglu_forward(ctx_, &a));
  }
  void swiglu_backward(const msw_tensor& x, const msw_tensor& dout, const msw_tensor& dx) const {
    auto a = args<msw_swiglu_args>();
    a.x = x;
    a.dout = dout;
    a.dx = dx;
    check(api_->swiglu_backward(ctx_, &a));
  }
  void gelu_forward(const msw_tensor& x, const msw_tensor& y, msw_gelu_approximation approximation) const {
    auto a = args<msw_gelu_args>();
    a.x = x;
    a.y = y;
    a.approximation = approximation;
    check(api_->gelu_forward(ctx_, &a));
  }
  void gelu_backward(const msw_tensor& x, const msw_tensor& dy, const msw_tensor& dx,
                     msw_gelu_approximation approximation) const {
    auto a = args<msw_gelu_args>();
    a.x = x;
    a.dy = dy;
    a.dx = dx;
    a.approximation = approximation;
    check(api_->gelu_backward(ctx_, &a));
  }

  // ---- loss ----
  // `a` holds logits, labels, ignore_index, lse and the optional outputs; header filled here.
  void cross_entropy_forward(msw_cross_entropy_args a) const {
    stamp(a);
    check(api_->cross_entropy_forward(ctx_, &a));
  }
  void cross_entropy_backward(msw_cross_entropy_args a) const {
    stamp(a);
    check(api_->cross_entropy_backward(ctx_, &a));
  }

  // A zeroed args struct of type A with its header filled.
  template <class A>
  static A args() {
    A a{};
    stamp(a);
    return a;
  }
  template <class A>
  static void stamp(A& a) {
    a.struct_size = static_cast<uint32_t>(sizeof(A));
  }
  // An optional tensor argument: absent (zeroed) for NULL.
  static msw_tensor opt(const msw_tensor* t) { return t ? *t : msw_tensor{}; }
  static void put(msw_qkv_split_args& a, const SplitRope* rope) {
    if (!rope) return;
    a.cos = rope->cos;
    a.sin = rope->sin;
    a.rows_per_position = rope->rows_per_position;
  }

 private:
  const msw_exec_ctx* ctx_;
  const msw_ops_api* api_ = nullptr;
};

}  // namespace megaswift::sdk
