// RMSNorm / LayerNorm over the last dimension, and what it keeps for backward.
#pragma once

#include <megaswift/nn/arena.hpp>
#include <megaswift/sdk/ops.hpp>

namespace megaswift::nn {

enum class NormKind { rms, layer };

struct Norm {
  NormKind kind = NormKind::rms;
  int64_t dim = 0;
  double eps = 1e-5;

  struct Saved {
    msw_tensor rstd{};  // (rows) F32
    msw_tensor mean{};  // (rows) F32, LayerNorm only
  };

  Saved declare(Arena& saved, int64_t rows) const {
    Saved s;
    s.rstd = saved.f32({rows});
    if (kind == NormKind::layer) s.mean = saved.f32({rows});
    return s;
  }

  void forward(const sdk::Ops& ops, const msw_tensor& x, const msw_tensor& weight, const msw_tensor* bias,
               const msw_tensor& y, const Saved& s) const {
    if (kind == NormKind::rms) ops.rmsnorm_forward(x, weight, eps, y, s.rstd);
    else ops.layernorm_forward(x, weight, bias, eps, y, s.mean, s.rstd);
  }

  // dx written; dweight, dbias accumulate; NULL skips.
  void backward(const sdk::Ops& ops, const msw_tensor& x, const msw_tensor& weight, const Saved& s,
                const msw_tensor& dy, const msw_tensor* dx, const msw_tensor* dweight,
                const msw_tensor* dbias = nullptr) const {
    if (kind == NormKind::rms) ops.rmsnorm_backward(x, weight, s.rstd, dy, dx, dweight);
    else ops.layernorm_backward(x, weight, s.mean, s.rstd, dy, dx, dweight, dbias);
  }
};

}  // namespace megaswift::nn
