// Normalization modules over the last dimension: RMSNorm, optionally zero-centred ((1 + w) * x / rms(x),
// Gemma's), and what they keep for backward (the rstd of every row).
#pragma once

#include <megaswift/nn/module.hpp>

#include <memory>
#include <string>

namespace megaswift::nn {

// Where a norm sits: its width, how many rows each token has (1 for the hidden state, heads for a per-head
// q/k norm), its epsilon, and the Megatron and HF names of its weight.
struct NormSite {
  int64_t dim = 0;
  int64_t rows_per_token = 1;
  double eps = 1e-6;
  std::string megatron_weight;
  std::string hf_weight;
};

// The interface of a norm: a Module whose output has the input's shape.
class Norm : public Module {
 public:
  virtual ParamId weight() const = 0;
  // sum = x + residual (stored in the activations' dtype), y = norm(sum): the residual add before a norm. The
  // default adds, then normalizes; a norm whose op takes the residual does both in one pass.
  virtual void forward_residual(const Step& st, Arena& saved, Arena& ws, const msw_tensor& x, const msw_tensor& residual,
                                const msw_tensor& sum, const msw_tensor& y) const {
    st.ops.add(x, residual, sum);
    forward(st, saved, ws, sum, y);
  }
};

// y = (weight_offset + w) * x / rms(x). weight_offset 1 is Gemma's zero-centred norm: its weight is
// initialised to zeros (HF's init of those weights), so every norm starts as the plain x / rms(x).
class RmsNorm : public Norm {
 public:
  RmsNorm(ModuleContext& c, const NormSite& site, double weight_offset = 0.0)
      : site_(site), weight_offset_(weight_offset) {
    weight_ = c.vector(site.megatron_weight, site.dim, MSW_TP_REPLICATED, weight_offset != 0.0 ? MSW_INIT_ZEROS : MSW_INIT_ONES,
                       MSW_HF_IDENTITY, {site.hf_weight}, {{site.dim}});
  }

  ParamId weight() const override { return weight_; }
  double weight_offset() const { return weight_offset_; }

  uint64_t saved_bytes(const Geometry& g) const override {
    return planned_bytes([&](Arena& a) { declare(a, g); });
  }
  void forward(const Step& st, Arena& saved, Arena&, const msw_tensor& x, const msw_tensor& y) const override {
    const msw_tensor rstd = declare(saved, st.geo);
    st.ops.rmsnorm_forward(x, st.params[weight_], site_.eps, y, rstd, weight_offset_);
  }
  void forward_residual(const Step& st, Arena& saved, Arena&, const msw_tensor& x, const msw_tensor& residual,
                        const msw_tensor& sum, const msw_tensor& y) const override {
    const msw_tensor rstd = declare(saved, st.geo);
    st.ops.rmsnorm_forward(x, st.params[weight_], site_.eps, y, rstd, weight_offset_, &residual, &sum);
  }
  void backward(const Step& st, Arena& saved, Arena&, const msw_tensor& x, const msw_tensor& dy, const msw_tensor& dx,
                bool accumulate_dx) const override {
    const msw_tensor rstd = declare(saved, st.geo);
    st.ops.rmsnorm_backward(x, st.params[weight_], rstd, dy, &dx, st.params.grad(weight_), weight_offset_, accumulate_dx);
  }

 private:
  msw_tensor declare(Arena& a, const Geometry& g) const { return a.f32({g.t() * site_.rows_per_token}); }

  NormSite site_;
  double weight_offset_;
  ParamId weight_ = kNoParam;
};

}  // namespace megaswift::nn
