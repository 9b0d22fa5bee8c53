// RoPE frequency variants, cos/sin tables, and the rotate-half rotation (see rope.hpp).
#include <kernels/cpu/rope.hpp>

#include <algorithm>
#include <cmath>
#include <numbers>
#include <string>

#include <kernels/cpu/detail/checks.hpp>
#include <kernels/cpu/detail/parallel.hpp>

namespace megaswift::kernels::cpu {
namespace {

constexpr const char* kOp = "rope";

// theta^(2i/d) the way HF evaluates it in float32: the exponent 2i/d rounded to float, the power
// rounded to float. Deviating here by one ulp would already show in the logits at long positions.
float pos_freq(double theta, int64_t i, int64_t d) {
  const float e = static_cast<float>(2 * i) / static_cast<float>(d);
  return static_cast<float>(std::pow(static_cast<double>(static_cast<float>(theta)), static_cast<double>(e)));
}

double yarn_mscale(double scale, double m) { return scale <= 1.0 ? 1.0 : 0.1 * m * std::log(scale) + 1.0; }

double yarn_correction_dim(double rotations, int64_t d, double theta, double max_pos) {
  return static_cast<double>(d) * std::log(max_pos / (rotations * 2.0 * std::numbers::pi)) / (2.0 * std::log(theta));
}

}  // namespace

RopeScaling rope_scaling_from_name(std::string_view name) {
  if (name.empty() || name == "default") return RopeScaling::none;
  if (name == "linear") return RopeScaling::linear;
  if (name == "dynamic") return RopeScaling::dynamic;
  if (name == "llama3") return RopeScaling::llama3;
  if (name == "yarn") return RopeScaling::yarn;
  detail::fail(kOp, "rope_type '" + std::string(name) +
                        "' is not supported; supported: default, linear, dynamic, llama3, yarn");
}

int64_t rope_rotary_dim(const RopeConfig& c) {
  return static_cast<int64_t>(static_cast<double>(c.head_dim) * c.partial_rotary_factor);
}

void rope_validate(const RopeConfig& c) {
  detail::check_positive(kOp, "head_dim", c.head_dim);
  if (!(c.partial_rotary_factor > 0.0 && c.partial_rotary_factor <= 1.0)) {
    detail::fail(kOp, "partial_rotary_factor must be in (0, 1], got " + std::to_string(c.partial_rotary_factor));
  }
  const int64_t d = rope_rotary_dim(c);
  if (d < 2 || d % 2 != 0) {
    detail::fail(kOp, "the rotary dim int(head_dim * partial_rotary_factor) = " + std::to_string(d) +
                          " must be even and >= 2");
  }
  if (!(c.theta > 1.0)) detail::fail(kOp, "rope_theta must be > 1, got " + std::to_string(c.theta));
  if (c.scaling != RopeScaling::none && !(c.factor > 0.0)) {
    detail::fail(kOp, "rope_scaling.factor must be > 0, got " + std::to_string(c.factor));
  }
  if (c.scaling == RopeScaling::dynamic) {
    detail::check_positive(kOp, "max_position_embeddings (needed by dynamic rope)", c.max_position_embeddings);
    if (d <= 2) detail::fail(kOp, "dynamic rope needs a rotary dim > 2");
  }
  if (c.scaling == RopeScaling::llama3) {
    detail::check_positive(kOp, "rope_scaling.original_max_position_embeddings (needed by llama3 rope)",
                           c.original_max_position_embeddings);
    if (!(c.high_freq_factor > c.low_freq_factor) || !(c.low_freq_factor > 0.0)) {
      detail::fail(kOp, "llama3 rope needs 0 < low_freq_factor < high_freq_factor, got " +
                            std::to_string(c.low_freq_factor) + " and " + std::to_string(c.high_freq_factor));
    }
  }
  if (c.scaling == RopeScaling::yarn) {
    if (c.original_max_position_embeddings <= 0 && c.max_position_embeddings <= 0) {
      detail::fail(kOp, "yarn rope needs original_max_position_embeddings or max_position_embeddings > 0");
    }
    if (!(c.beta_fast > 0.0 && c.beta_slow > 0.0)) detail::fail(kOp, "yarn beta_fast and beta_slow must be > 0");
  }
}

double rope_attention_factor(const RopeConfig& c) {
  if (c.scaling != RopeScaling::yarn) return 1.0;
  if (c.attention_factor) return *c.attention_factor;
  if (c.mscale != 0.0 && c.mscale_all_dim != 0.0) {
    return yarn_mscale(c.factor, c.mscale) / yarn_mscale(c.factor, c.mscale_all_dim);
  }
  return yarn_mscale(c.factor, 1.0);
}

std::vector<float> rope_inv_freq(const RopeConfig& c, int64_t max_position) {
  rope_validate(c);
  const int64_t d = rope_rotary_dim(c);
  const int64_t half = d / 2;
  std::vector<float> inv(static_cast<size_t>(half));
  double theta = c.theta;
  if (c.scaling == RopeScaling::dynamic) {
    const double len = static_cast<double>(std::max<int64_t>(max_position + 1, c.max_position_embeddings));
    const double mp = static_cast<double>(c.max_position_embeddings);
    theta = c.theta * std::pow(c.factor * len / mp - (c.factor - 1.0), static_cast<double>(d) / (d - 2));
  }
  for (int64_t i = 0; i < half; ++i) inv[i] = 1.0f / pos_freq(theta, i, d);

  switch (c.scaling) {
    case RopeScaling::none:
    case RopeScaling::dynamic:
      break;
    case RopeScaling::linear: {
      const float f = static_cast<float>(c.factor);
      for (auto& v : inv) v /= f;
      break;
    }
    case RopeScaling::llama3: {
      const double old_len = static_cast<double>(c.original_max_position_embeddings);
      const double low_wavelen = old_len / c.low_freq_factor;
      const double high_wavelen = old_len / c.high_freq_factor;
      for (auto& v : inv) {
        const double f = v;
        const double wavelen = 2.0 * std::numbers::pi / f;
        if (wavelen < high_wavelen) continue;  // high frequency: kept
        if (wavelen > low_wavelen) {           // low frequency: interpolated fully
          v = static_cast<float>(f / c.factor);
          continue;
        }
        const double smooth = (old_len / wavelen - c.low_freq_factor) / (c.high_freq_factor - c.low_freq_factor);
        v = static_cast<float>((1.0 - smooth) * f / c.factor + smooth * f);
      }
      break;
    }
    case RopeScaling::yarn: {
      const double orig =
          static_cast<double>(c.original_max_position_embeddings > 0 ? c.original_max_position_embeddings
                                                                     : c.max_position_embeddings);
      double low = yarn_correction_dim(c.beta_fast, d, c.theta, orig);
      double high = yarn_correction_dim(c.beta_slow, d, c.theta, orig);
      if (c.truncate) {
        low = std::floor(low);
        high = std::ceil(high);
      }
      low = std::max(low, 0.0);
      high = std::min(high, static_cast<double>(d - 1));
      if (low == high) high += 0.001;  // as HF: avoids a zero-width ramp
      for (int64_t i = 0; i < half; ++i) {
        const double pf = pos_freq(c.theta, i, d);
        const double extrapolation = 1.0 / pf;
        const double interpolation = 1.0 / (c.factor * pf);
        const double ramp = std::clamp((static_cast<double>(i) - low) / (high - low), 0.0, 1.0);
        const double extrapolation_weight = 1.0 - ramp;
        inv[i] = static_cast<float>(interpolation * (1.0 - extrapolation_weight) +
                                    extrapolation * extrapolation_weight);
      }
      break;
    }
  }
  return inv;
}

void rope_tables(const RopeConfig& c, const int64_t* positions, int64_t n_positions, float* cos, float* sin) {
  detail::check_nonneg(kOp, "n_positions", n_positions);
  if (n_positions == 0) return;
  detail::check_ptr(kOp, "positions", positions);
  detail::check_ptr(kOp, "cos", cos);
  detail::check_ptr(kOp, "sin", sin);
  int64_t max_pos = 0;
  for (int64_t p = 0; p < n_positions; ++p) {
    if (positions[p] < 0) {
      detail::fail(kOp, "position " + std::to_string(positions[p]) + " at index " + std::to_string(p) +
                            " is negative");
    }
    max_pos = std::max(max_pos, positions[p]);
  }
  const std::vector<float> inv = rope_inv_freq(c, max_pos);
  const auto half = static_cast<int64_t>(inv.size());
  const float att = static_cast<float>(rope_attention_factor(c));
#pragma omp parallel for schedule(static) num_threads(detail::threads_for(n_positions * half * 8))
  for (int64_t p = 0; p < n_positions; ++p) {
    const float pos = static_cast<float>(positions[p]);
    for (int64_t i = 0; i < half; ++i) {
      const float angle = inv[i] * pos;  // float32 product, as torch's float32 matmul
      cos[p * half + i] = static_cast<float>(std::cos(static_cast<double>(angle))) * att;
      sin[p * half + i] = static_cast<float>(std::sin(static_cast<double>(angle))) * att;
    }
  }
}

namespace {

// sign = +1: forward rotation; -1: its transpose (backward).
void rotate(const char* op, const float* in, float* out, const float* cos, const float* sin, int64_t tokens,
            int64_t heads, int64_t head_dim, int64_t rotary_dim, int64_t rows_per_position, float sign) {
  detail::check_nonneg(op, "tokens", tokens);
  detail::check_positive(op, "heads", heads);
  detail::check_positive(op, "head_dim", head_dim);
  detail::check_positive(op, "rows_per_position", rows_per_position);
  if (rotary_dim < 2 || rotary_dim % 2 != 0 || rotary_dim > head_dim) {
    detail::fail(op, "rotary_dim must be even, >= 2 and <= head_dim " + std::to_string(head_dim) + ", got " +
                         std::to_string(rotary_dim));
  }
  if (tokens == 0) return;
  detail::check_ptr(op, "input", in);
  detail::check_ptr(op, "output", out);
  detail::check_ptr(op, "cos", cos);
  detail::check_ptr(op, "sin", sin);
  const int64_t half = rotary_dim / 2;
#pragma omp parallel for schedule(static) num_threads(detail::threads_for(tokens * heads * head_dim))
  for (int64_t r = 0; r < tokens; ++r) {
    const int64_t table_row = r / rows_per_position;
    const float* c = cos + table_row * half;
    const float* s = sin + table_row * half;
    for (int64_t h = 0; h < heads; ++h) {
      const float* x = in + (r * heads + h) * head_dim;
      float* y = out + (r * heads + h) * head_dim;
#pragma omp simd
      for (int64_t i = 0; i < half; ++i) {
        const float x1 = x[i], x2 = x[i + half];
        const float si = sign * s[i];
        y[i] = x1 * c[i] - x2 * si;
        y[i + half] = x2 * c[i] + x1 * si;
      }
      if (x != y) {
        for (int64_t i = rotary_dim; i < head_dim; ++i) y[i] = x[i];
      }
    }
  }
}

}  // namespace

void rope_forward(const float* x, float* y, const float* cos, const float* sin, int64_t tokens, int64_t heads,
                  int64_t head_dim, int64_t rotary_dim, int64_t rows_per_position) {
  rotate("rope_forward", x, y, cos, sin, tokens, heads, head_dim, rotary_dim, rows_per_position, 1.0f);
}

void rope_backward(const float* dy, float* dx, const float* cos, const float* sin, int64_t tokens, int64_t heads,
                   int64_t head_dim, int64_t rotary_dim, int64_t rows_per_position) {
  rotate("rope_backward", dy, dx, cos, sin, tokens, heads, head_dim, rotary_dim, rows_per_position, -1.0f);
}

}  // namespace megaswift::kernels::cpu
