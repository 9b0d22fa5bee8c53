// Naive float64 references: SwiGLU, GELU (erf and tanh), cross-entropy with ignore index.
#pragma once

#include <cmath>
#include <cstdint>
#include <vector>

namespace ops_ref {

using Vec = std::vector<double>;

inline double silu(double x) { return x / (1.0 + std::exp(-x)); }

inline Vec swiglu(const Vec& gate, const Vec& up) {
  Vec out(gate.size());
  for (size_t i = 0; i < gate.size(); ++i) out[i] = silu(gate[i]) * up[i];
  return out;
}

inline double gelu_erf(double x) { return 0.5 * x * (1.0 + std::erf(x / std::sqrt(2.0))); }

inline double gelu_tanh(double x) {
  const double k = std::sqrt(2.0 / 3.14159265358979323846);
  return 0.5 * x * (1.0 + std::tanh(k * (x + 0.044715 * x * x * x)));
}

struct CrossEntropy {
  double loss = 0.0;
  int64_t count = 0;
};

// Mean over rows whose label is not ignore_index; 0 and count 0 when every row is ignored.
inline CrossEntropy cross_entropy(const Vec& logits, const std::vector<int64_t>& labels, int64_t vocab,
                                  int64_t ignore_index = -100) {
  CrossEntropy r;
  double sum = 0.0;
  for (size_t i = 0; i < labels.size(); ++i) {
    if (labels[i] == ignore_index) continue;
    double m = logits[i * vocab];
    for (int64_t v = 1; v < vocab; ++v) m = std::max(m, logits[i * vocab + v]);
    double z = 0.0;
    for (int64_t v = 0; v < vocab; ++v) z += std::exp(logits[i * vocab + v] - m);
    sum += m + std::log(z) - logits[i * vocab + labels[i]];
    ++r.count;
  }
  r.loss = r.count ? sum / static_cast<double>(r.count) : 0.0;
  return r;
}

}  // namespace ops_ref
