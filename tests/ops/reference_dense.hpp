// Naive float64 references: embedding, linear, RMSNorm, LayerNorm, residual add, QKV split.
// Written from the math in each kernel header, loop by loop, for clarity over speed.
#pragma once

#include <cmath>
#include <cstdint>
#include <vector>

namespace ops_ref {

using Vec = std::vector<double>;

// out (N, C) = table[ids - vocab_start], zero rows for ids outside [vocab_start, vocab_start + V)
inline Vec embedding(const std::vector<int64_t>& ids, const Vec& table, int64_t dim, int64_t vocab_start = 0) {
  const auto vocab = static_cast<int64_t>(table.size()) / dim;
  Vec out(ids.size() * dim, 0.0);
  for (size_t i = 0; i < ids.size(); ++i) {
    const int64_t row = ids[i] - vocab_start;
    if (row < 0 || row >= vocab) continue;
    for (int64_t j = 0; j < dim; ++j) out[i * dim + j] = table[row * dim + j];
  }
  return out;
}

// y (M, N) = x (M, K) W^T (W: (N, K)) + b (N, may be empty)
inline Vec linear(const Vec& x, const Vec& w, const Vec& b, int64_t m, int64_t k, int64_t n) {
  Vec y(m * n);
  for (int64_t i = 0; i < m; ++i)
    for (int64_t o = 0; o < n; ++o) {
      double s = b.empty() ? 0.0 : b[o];
      for (int64_t c = 0; c < k; ++c) s += x[i * k + c] * w[o * k + c];
      y[i * n + o] = s;
    }
  return y;
}

// y (R, C) = (offset + w) * x / sqrt(mean(x^2) + eps)
inline Vec rmsnorm(const Vec& x, const Vec& w, int64_t rows, int64_t dim, double eps, Vec* rstd = nullptr,
                   double offset = 0.0) {
  Vec y(rows * dim);
  if (rstd) rstd->assign(rows, 0.0);
  for (int64_t i = 0; i < rows; ++i) {
    double ss = 0.0;
    for (int64_t j = 0; j < dim; ++j) ss += x[i * dim + j] * x[i * dim + j];
    const double r = 1.0 / std::sqrt(ss / dim + eps);
    if (rstd) (*rstd)[i] = r;
    for (int64_t j = 0; j < dim; ++j) y[i * dim + j] = (offset + w[j]) * x[i * dim + j] * r;
  }
  return y;
}

// y (R, C) = (x - mean) / sqrt(var + eps) * w + b (b may be empty); var is the biased variance.
inline Vec layernorm(const Vec& x, const Vec& w, const Vec& b, int64_t rows, int64_t dim, double eps,
                     Vec* mean_out = nullptr, Vec* rstd_out = nullptr) {
  Vec y(rows * dim);
  if (mean_out) mean_out->assign(rows, 0.0);
  if (rstd_out) rstd_out->assign(rows, 0.0);
  for (int64_t i = 0; i < rows; ++i) {
    double mean = 0.0;
    for (int64_t j = 0; j < dim; ++j) mean += x[i * dim + j];
    mean /= dim;
    double var = 0.0;
    for (int64_t j = 0; j < dim; ++j) var += (x[i * dim + j] - mean) * (x[i * dim + j] - mean);
    var /= dim;
    const double r = 1.0 / std::sqrt(var + eps);
    if (mean_out) (*mean_out)[i] = mean;
    if (rstd_out) (*rstd_out)[i] = r;
    for (int64_t j = 0; j < dim; ++j) y[i * dim + j] = (x[i * dim + j] - mean) * r * w[j] + (b.empty() ? 0.0 : b[j]);
  }
  return y;
}

// Megatron's fused QKV row -> q (R, Hq, D), k (R, Hkv, D), v (R, Hkv, D); written from formats.md 5.2.
inline void qkv_split(const Vec& qkv, int64_t rows, int64_t hq, int64_t hkv, int64_t d, Vec& q, Vec& k, Vec& v) {
  const int64_t n = hq / hkv;
  q.assign(rows * hq * d, 0.0);
  k.assign(rows * hkv * d, 0.0);
  v.assign(rows * hkv * d, 0.0);
  const int64_t width = hkv * (n + 2) * d;
  for (int64_t r = 0; r < rows; ++r)
    for (int64_t g = 0; g < hkv; ++g) {
      const int64_t base = r * width + g * (n + 2) * d;
      for (int64_t i = 0; i < n; ++i)
        for (int64_t c = 0; c < d; ++c) q[(r * hq + g * n + i) * d + c] = qkv[base + i * d + c];
      for (int64_t c = 0; c < d; ++c) {
        k[(r * hkv + g) * d + c] = qkv[base + n * d + c];
        v[(r * hkv + g) * d + c] = qkv[base + (n + 1) * d + c];
      }
    }
}

}  // namespace ops_ref
