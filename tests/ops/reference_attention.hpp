// Naive float64 references: the rotate-half RoPE rotation and causal GQA attention.
#pragma once

#include <cmath>
#include <cstdint>
#include <limits>
#include <vector>

namespace ops_ref {

using Vec = std::vector<double>;

// x (B, T, H, D); cos/sin (rows, rot/2) indexed by t, or by b*T+t when per_batch.
inline Vec rope(const Vec& x, const Vec& cos, const Vec& sin, int64_t B, int64_t T, int64_t H, int64_t D,
                int64_t rot, bool per_batch) {
  Vec y = x;
  const int64_t half = rot / 2;
  for (int64_t b = 0; b < B; ++b)
    for (int64_t t = 0; t < T; ++t) {
      const int64_t row = per_batch ? b * T + t : t;
      for (int64_t h = 0; h < H; ++h) {
        const int64_t base = ((b * T + t) * H + h) * D;
        for (int64_t i = 0; i < rot; ++i) {
          // q * cos + rotate_half(q) * sin, rotate_half(x) = cat(-x2, x1), cos/sin duplicated over halves
          const double c = cos[row * half + i % half], s = sin[row * half + i % half];
          const double rotated = i < half ? -x[base + i + half] : x[base + i - half];
          y[base + i] = x[base + i] * c + rotated * s;
        }
      }
    }
  return y;
}

// q (B, T, Hq, D), k/v (B, T, Hkv, D) -> out (B, T, Hq, D); q head h uses kv head h / (Hq/Hkv).
inline Vec attention(const Vec& q, const Vec& k, const Vec& v, int64_t B, int64_t T, int64_t Hq, int64_t Hkv,
                     int64_t D, double scale, Vec* lse_out = nullptr) {
  Vec out(B * T * Hq * D, 0.0);
  if (lse_out) lse_out->assign(B * Hq * T, 0.0);
  const int64_t group = Hq / Hkv;
  std::vector<double> s(T);
  for (int64_t b = 0; b < B; ++b)
    for (int64_t h = 0; h < Hq; ++h) {
      const int64_t g = h / group;
      for (int64_t t = 0; t < T; ++t) {
        double m = -std::numeric_limits<double>::infinity();
        for (int64_t u = 0; u <= t; ++u) {
          double dot = 0.0;
          for (int64_t c = 0; c < D; ++c) dot += q[((b * T + t) * Hq + h) * D + c] * k[((b * T + u) * Hkv + g) * D + c];
          s[u] = dot * scale;
          m = std::max(m, s[u]);
        }
        double z = 0.0;
        for (int64_t u = 0; u <= t; ++u) z += std::exp(s[u] - m);
        if (lse_out) (*lse_out)[(b * Hq + h) * T + t] = m + std::log(z);
        for (int64_t u = 0; u <= t; ++u) {
          const double p = std::exp(s[u] - m) / z;
          for (int64_t c = 0; c < D; ++c) out[((b * T + t) * Hq + h) * D + c] += p * v[((b * T + u) * Hkv + g) * D + c];
        }
      }
    }
  return out;
}

}  // namespace ops_ref
