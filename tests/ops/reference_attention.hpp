// Naive float64 references: the rotate-half RoPE rotation and causal GQA attention (bottom-right causal,
// sliding window, soft-capping), written from ops.h's definitions, loop by loop.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>
#include <vector>

namespace ops_ref {

using Vec = std::vector<double>;

// x (T, H, D) in activation order; token t uses table row t / rows_per_position of cos/sin (rows, rot/2).
inline Vec rope(const Vec& x, const Vec& cos, const Vec& sin, int64_t T, int64_t H, int64_t D, int64_t rot,
                int64_t rows_per_position) {
  Vec y = x;
  const int64_t half = rot / 2;
  for (int64_t t = 0; t < T; ++t) {
    const int64_t row = t / rows_per_position;
    for (int64_t h = 0; h < H; ++h) {
      const int64_t base = (t * H + h) * D;
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

struct AttentionOptions {
  double scale = 1.0;
  int64_t window_left = 0;  // > 0: keys [p - window_left, p]
  double softcap = 0.0;     // > 0: s -> softcap * tanh(s / softcap)
};

// One sequence: q (Lq, Hq, D), k and v (Lkv, Hkv, D) -> out (Lq, Hq, D), lse (Lq, Hq). Query i sits at
// position i + Lkv - Lq; q head h reads kv head h / (Hq / Hkv).
inline Vec attention_seq(const Vec& q, const Vec& k, const Vec& v, int64_t Lq, int64_t Lkv, int64_t Hq, int64_t Hkv,
                         int64_t D, const AttentionOptions& o, Vec* lse_out = nullptr) {
  Vec out(Lq * Hq * D, 0.0);
  if (lse_out) lse_out->assign(Lq * Hq, 0.0);
  const int64_t group = Hq / Hkv;
  std::vector<double> s(static_cast<size_t>(Lkv));
  for (int64_t h = 0; h < Hq; ++h) {
    const int64_t g = h / group;
    for (int64_t i = 0; i < Lq; ++i) {
      const int64_t p = i + Lkv - Lq;
      const int64_t lo = o.window_left > 0 ? std::max<int64_t>(0, p - o.window_left) : 0;
      double m = -std::numeric_limits<double>::infinity();
      for (int64_t j = lo; j <= p; ++j) {
        double dot = 0.0;
        for (int64_t c = 0; c < D; ++c) dot += q[(i * Hq + h) * D + c] * k[(j * Hkv + g) * D + c];
        double sc = dot * o.scale;
        if (o.softcap > 0.0) sc = o.softcap * std::tanh(sc / o.softcap);
        s[j] = sc;
        m = std::max(m, sc);
      }
      double z = 0.0;
      for (int64_t j = lo; j <= p; ++j) z += std::exp(s[j] - m);
      if (lse_out) (*lse_out)[i * Hq + h] = m + std::log(z);
      for (int64_t j = lo; j <= p; ++j) {
        const double pr = std::exp(s[j] - m) / z;
        for (int64_t c = 0; c < D; ++c) out[(i * Hq + h) * D + c] += pr * v[(j * Hkv + g) * D + c];
      }
    }
  }
  return out;
}

// SBHD: q (Sq, B, Hq, D), k and v (Skv, B, Hkv, D) -> out (Sq, B, Hq, D), lse (Sq, B, Hq); batch row b is one
// sequence, gathered and scattered around attention_seq.
inline Vec attention_sbhd(const Vec& q, const Vec& k, const Vec& v, int64_t B, int64_t Sq, int64_t Skv, int64_t Hq,
                          int64_t Hkv, int64_t D, const AttentionOptions& o, Vec* lse_out = nullptr) {
  Vec out(Sq * B * Hq * D, 0.0);
  if (lse_out) lse_out->assign(Sq * B * Hq, 0.0);
  for (int64_t b = 0; b < B; ++b) {
    Vec qs(Sq * Hq * D), ks(Skv * Hkv * D), vs(Skv * Hkv * D);
    for (int64_t t = 0; t < Sq; ++t)
      std::copy_n(q.begin() + (t * B + b) * Hq * D, Hq * D, qs.begin() + t * Hq * D);
    for (int64_t t = 0; t < Skv; ++t) {
      std::copy_n(k.begin() + (t * B + b) * Hkv * D, Hkv * D, ks.begin() + t * Hkv * D);
      std::copy_n(v.begin() + (t * B + b) * Hkv * D, Hkv * D, vs.begin() + t * Hkv * D);
    }
    Vec lse;
    const Vec os = attention_seq(qs, ks, vs, Sq, Skv, Hq, Hkv, D, o, &lse);
    for (int64_t t = 0; t < Sq; ++t) {
      std::copy_n(os.begin() + t * Hq * D, Hq * D, out.begin() + (t * B + b) * Hq * D);
      if (lse_out) std::copy_n(lse.begin() + t * Hq, Hq, lse_out->begin() + (t * B + b) * Hq);
    }
  }
  return out;
}

}  // namespace ops_ref
