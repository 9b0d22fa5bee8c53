// C++ access to the host's ops table (megaswift/c/ops.h): descriptor builders and an Ops object whose methods
// call the table and throw megaswift::sdk::Error on failure. Header-only, C++17.
//
//   megaswift::sdk::Ops ops(ctx);                       // ctx: the msw_exec_ctx of the current call
//   ops.rmsnorm_forward(x, weight, eps, y, rstd);
#pragma once

#include <megaswift/c/ops.h>
#include <megaswift/sdk/status.hpp>
#include <megaswift/sdk/tensor.hpp>

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

  void fill(const msw_tensor& out, double value) const { check(api_->fill(ctx_, &out, value)); }
  void copy(const msw_tensor& src, const msw_tensor& dst) const { check(api_->copy(ctx_, &src, &dst)); }
  void add(const msw_tensor& a, const msw_tensor& b, const msw_tensor& out) const {
    check(api_->add(ctx_, &a, &b, &out));
  }
  void accumulate(const msw_tensor& src, const msw_tensor& dst) const { check(api_->accumulate(ctx_, &src, &dst)); }
  void scale(const msw_tensor& x, double s) const { check(api_->scale(ctx_, &x, s)); }
  double sum_squares(const msw_tensor& x) const {
    double out = 0;
    check(api_->sum_squares(ctx_, &x, &out));
    return out;
  }

  void gemm(bool trans_a, bool trans_b, double alpha, const msw_tensor& a, const msw_tensor& b, double beta,
            const msw_tensor& c) const {
    check(api_->gemm(ctx_, trans_a, trans_b, alpha, &a, &b, beta, &c));
  }
  void linear_forward(const msw_tensor& x, const msw_tensor& weight, const msw_tensor* bias,
                      const msw_tensor& y) const {
    check(api_->linear_forward(ctx_, &x, &weight, bias, &y));
  }
  void linear_backward(const msw_tensor& x, const msw_tensor& weight, const msw_tensor& dy, const msw_tensor* dx,
                       const msw_tensor* dweight, const msw_tensor* dbias, bool accumulate_dx = false) const {
    check(api_->linear_backward(ctx_, &x, &weight, &dy, dx, dweight, dbias, accumulate_dx));
  }

  void embedding_forward(const msw_tensor& ids, const msw_tensor& table, const msw_tensor& out) const {
    check(api_->embedding_forward(ctx_, &ids, &table, &out));
  }
  void embedding_backward(const msw_tensor& ids, const msw_tensor& dout, const msw_tensor& dtable) const {
    check(api_->embedding_backward(ctx_, &ids, &dout, &dtable));
  }

  void rmsnorm_forward(const msw_tensor& x, const msw_tensor& weight, double eps, const msw_tensor& y,
                       const msw_tensor& rstd) const {
    check(api_->rmsnorm_forward(ctx_, &x, &weight, eps, &y, &rstd));
  }
  void rmsnorm_backward(const msw_tensor& x, const msw_tensor& weight, const msw_tensor& rstd, const msw_tensor& dy,
                        const msw_tensor* dx, const msw_tensor* dweight) const {
    check(api_->rmsnorm_backward(ctx_, &x, &weight, &rstd, &dy, dx, dweight));
  }
  void layernorm_forward(const msw_tensor& x, const msw_tensor& weight, const msw_tensor* bias, double eps,
                         const msw_tensor& y, const msw_tensor& mean, const msw_tensor& rstd) const {
    check(api_->layernorm_forward(ctx_, &x, &weight, bias, eps, &y, &mean, &rstd));
  }
  void layernorm_backward(const msw_tensor& x, const msw_tensor& weight, const msw_tensor& mean,
                          const msw_tensor& rstd, const msw_tensor& dy, const msw_tensor* dx,
                          const msw_tensor* dweight, const msw_tensor* dbias) const {
    check(api_->layernorm_backward(ctx_, &x, &weight, &mean, &rstd, &dy, dx, dweight, dbias));
  }

  int64_t rope_rotary_dim(const msw_rope_config& config) const {
    int64_t out = 0;
    check(api_->rope_rotary_dim(ctx_, &config, &out));
    return out;
  }
  // positions: I64 (P) or NULL for 0..P-1, P = the rows of cos.
  void rope_tables(const msw_rope_config& config, const msw_tensor* positions, const msw_tensor& cos,
                   const msw_tensor& sin) const {
    check(api_->rope_tables(ctx_, &config, positions, &cos, &sin));
  }
  void rope_forward(const msw_tensor& x, const msw_tensor& cos, const msw_tensor& sin, const msw_tensor& y) const {
    check(api_->rope_forward(ctx_, &x, &cos, &sin, &y));
  }
  void rope_backward(const msw_tensor& dy, const msw_tensor& cos, const msw_tensor& sin, const msw_tensor& dx) const {
    check(api_->rope_backward(ctx_, &dy, &cos, &sin, &dx));
  }

  void qkv_split_forward(const msw_tensor& qkv, const msw_tensor& q, const msw_tensor& k, const msw_tensor& v) const {
    check(api_->qkv_split_forward(ctx_, &qkv, &q, &k, &v));
  }
  void qkv_split_backward(const msw_tensor& dq, const msw_tensor& dk, const msw_tensor& dv,
                          const msw_tensor& dqkv) const {
    check(api_->qkv_split_backward(ctx_, &dq, &dk, &dv, &dqkv));
  }
  void attention_forward(const msw_tensor& q, const msw_tensor& k, const msw_tensor& v, double scale,
                         const msw_tensor& out, const msw_tensor& lse, const msw_tensor* probs) const {
    check(api_->attention_forward(ctx_, &q, &k, &v, scale, &out, &lse, probs));
  }
  void attention_backward(const msw_tensor& q, const msw_tensor& k, const msw_tensor& v, const msw_tensor& out,
                          const msw_tensor& lse, const msw_tensor* probs, const msw_tensor& dout, double scale,
                          const msw_tensor& dq, const msw_tensor& dk, const msw_tensor& dv) const {
    check(api_->attention_backward(ctx_, &q, &k, &v, &out, &lse, probs, &dout, scale, &dq, &dk, &dv));
  }

  void swiglu_forward(const msw_tensor& x, const msw_tensor& out) const { check(api_->swiglu_forward(ctx_, &x, &out)); }
  void swiglu_backward(const msw_tensor& x, const msw_tensor& dout, const msw_tensor& dx) const {
    check(api_->swiglu_backward(ctx_, &x, &dout, &dx));
  }
  void gelu_forward(const msw_tensor& x, const msw_tensor& y, msw_gelu_approximation a) const {
    check(api_->gelu_forward(ctx_, &x, &y, a));
  }
  void gelu_backward(const msw_tensor& x, const msw_tensor& dy, const msw_tensor& dx, msw_gelu_approximation a) const {
    check(api_->gelu_backward(ctx_, &x, &dy, &dx, a));
  }

  msw_cross_entropy_result cross_entropy_forward(const msw_tensor& logits, const msw_tensor& labels,
                                                 int64_t ignore_index, const msw_tensor& lse,
                                                 const msw_tensor* per_token_loss) const {
    msw_cross_entropy_result r{};
    check(api_->cross_entropy_forward(ctx_, &logits, &labels, ignore_index, &lse, per_token_loss, &r));
    return r;
  }
  void cross_entropy_backward(const msw_tensor& logits, const msw_tensor& labels, const msw_tensor& lse,
                              int64_t ignore_index, double grad_scale, const msw_tensor& dlogits) const {
    check(api_->cross_entropy_backward(ctx_, &logits, &labels, &lse, ignore_index, grad_scale, &dlogits));
  }

 private:
  const msw_exec_ctx* ctx_;
  const msw_ops_api* api_ = nullptr;
};

}  // namespace megaswift::sdk
