// Cross-entropy with ignore index, mean over counted rows (see cross_entropy.hpp).
#include <kernels/cpu/cross_entropy.hpp>

#include <algorithm>
#include <cmath>
#include <limits>
#include <string>
#include <vector>

#include <kernels/cpu/detail/checks.hpp>
#include <kernels/cpu/detail/parallel.hpp>
#include <kernels/cpu/detail/vmath.hpp>

namespace megaswift::kernels::cpu {
namespace {

void check(const char* op, const float* logits, const int64_t* labels, int64_t rows, int64_t vocab,
           int64_t ignore_index) {
  detail::check_nonneg(op, "rows", rows);
  detail::check_positive(op, "vocab", vocab);
  if (rows == 0) return;
  detail::check_ptr(op, "logits", logits);
  detail::check_ptr(op, "labels", labels);
  for (int64_t i = 0; i < rows; ++i) {
    const int64_t y = labels[i];
    if (y != ignore_index && (y < 0 || y >= vocab)) {
      detail::fail(op, "label " + std::to_string(y) + " at row " + std::to_string(i) + " is outside [0, " +
                           std::to_string(vocab) + ") and is not the ignore index " +
                           std::to_string(ignore_index));
    }
  }
}

// log(sum(exp(l))) of one row, the sum in double.
MSW_SIMD_CLONES double row_logsumexp(const float* l, int64_t vocab) {
  const float m = detail::max_of(l, vocab);
  double sum = 0.0;
#pragma omp simd reduction(+ : sum)
  for (int64_t v = 0; v < vocab; ++v) sum += detail::exp_fast(l[v] - m);
  return static_cast<double>(m) + std::log(sum);
}

// d = scale * softmax(l) (in place allowed), given the row's lse.
MSW_SIMD_CLONES void row_scaled_softmax(const float* l, float lse, float scale, int64_t vocab, float* d) {
#pragma omp simd
  for (int64_t v = 0; v < vocab; ++v) d[v] = detail::exp_fast(l[v] - lse) * scale;
}

}  // namespace

float cross_entropy_mean_scale(int64_t count) { return count > 0 ? 1.0f / static_cast<float>(count) : 0.0f; }

CrossEntropyResult cross_entropy_forward(const float* logits, const int64_t* labels, int64_t rows, int64_t vocab,
                                         float* lse, float* per_token_loss, int64_t ignore_index) {
  constexpr const char* op = "cross_entropy_forward";
  check(op, logits, labels, rows, vocab, ignore_index);
  CrossEntropyResult result;
  if (rows == 0) return result;
  detail::check_ptr(op, "lse", lse);
  std::vector<double> row_loss(static_cast<size_t>(rows), 0.0);
#pragma omp parallel for schedule(static) num_threads(detail::threads_for(rows * vocab * 4))
  for (int64_t i = 0; i < rows; ++i) {
    const float* l = logits + i * vocab;
    const double row_lse = row_logsumexp(l, vocab);
    lse[i] = static_cast<float>(row_lse);
    const int64_t y = labels[i];
    const double loss = y == ignore_index ? 0.0 : row_lse - static_cast<double>(l[y]);
    row_loss[static_cast<size_t>(i)] = loss;
    if (per_token_loss != nullptr) per_token_loss[i] = static_cast<float>(loss);
  }
  for (int64_t i = 0; i < rows; ++i) {
    if (labels[i] == ignore_index) continue;
    result.loss_sum += row_loss[static_cast<size_t>(i)];
    ++result.count;
  }
  result.loss = result.count > 0 ? result.loss_sum / static_cast<double>(result.count) : 0.0;
  return result;
}

void cross_entropy_backward(const float* logits, const int64_t* labels, const float* lse, int64_t rows,
                            int64_t vocab, float grad_scale, float* dlogits, int64_t ignore_index) {
  constexpr const char* op = "cross_entropy_backward";
  check(op, logits, labels, rows, vocab, ignore_index);
  if (rows == 0) return;
  detail::check_ptr(op, "lse", lse);
  detail::check_ptr(op, "dlogits", dlogits);
#pragma omp parallel for schedule(static) num_threads(detail::threads_for(rows * vocab * 4))
  for (int64_t i = 0; i < rows; ++i) {
    const float* l = logits + i * vocab;
    float* d = dlogits + i * vocab;
    const int64_t y = labels[i];
    if (y == ignore_index) {
      std::fill(d, d + vocab, 0.0f);
      continue;
    }
    row_scaled_softmax(l, lse[i], grad_scale, vocab, d);
    d[y] -= grad_scale;
  }
}

}  // namespace megaswift::kernels::cpu
