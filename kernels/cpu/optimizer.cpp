// AdamW and SGD updates over a list of tensors (see optimizer.hpp).
#include <kernels/cpu/optimizer.hpp>

#include <algorithm>
#include <cmath>
#include <string>
#include <vector>

#include <kernels/cpu/detail/checks.hpp>
#include <kernels/cpu/detail/parallel.hpp>

namespace megaswift::kernels::cpu {
namespace {

// Work is split into fixed chunks of one tensor each, so many small tensors (norms, biases) share threads
// with the large ones; a chunk's elements are independent, so the split never changes a result.
constexpr int64_t kChunk = 16384;

struct Task {
  int64_t tensor;
  int64_t begin;
  int64_t end;
};

template <class Tensor>
std::vector<Task> chunk_tasks(const Tensor* tensors, int64_t count, int64_t* total) {
  std::vector<Task> tasks;
  *total = 0;
  for (int64_t t = 0; t < count; ++t) {
    for (int64_t b = 0; b < tensors[t].n; b += kChunk) tasks.push_back({t, b, std::min(tensors[t].n, b + kChunk)});
    *total += tensors[t].n;
  }
  return tasks;
}

void check_common(const char* op, int64_t i, const char* what, const void* p, int64_t n) {
  if (n < 0) detail::fail(op, "tensor " + std::to_string(i) + " has " + std::to_string(n) + " elements");
  if (n > 0 && p == nullptr) detail::fail(op, "tensor " + std::to_string(i) + ": " + what + " is null");
}

}  // namespace

void adamw_step(const AdamWTensor* tensors, int64_t count, const AdamWHyper& h) {
  constexpr const char* op = "adamw_step";
  detail::check_nonneg(op, "count", count);
  if (count == 0) return;
  detail::check_ptr(op, "tensors", tensors);
  detail::check_positive(op, "step", h.step);
  for (int64_t i = 0; i < count; ++i) {
    const AdamWTensor& t = tensors[i];
    check_common(op, i, "param", t.param, t.n);
    check_common(op, i, "grad", t.grad, t.n);
    check_common(op, i, "exp_avg", t.exp_avg, t.n);
    check_common(op, i, "exp_avg_sq", t.exp_avg_sq, t.n);
  }
  // Formed in double and rounded once, as torch's Python-side scalars are.
  const double bias_correction1 = 1.0 - std::pow(h.beta1, static_cast<double>(h.step));
  const double bias_correction2 = 1.0 - std::pow(h.beta2, static_cast<double>(h.step));
  const float beta1 = static_cast<float>(h.beta1), one_minus_beta1 = static_cast<float>(1.0 - h.beta1);
  const float beta2 = static_cast<float>(h.beta2), one_minus_beta2 = static_cast<float>(1.0 - h.beta2);
  const float bc2_sqrt = static_cast<float>(std::sqrt(bias_correction2));
  const float eps = static_cast<float>(h.eps);
  const float gs = h.grad_scale;

  int64_t total = 0;
  const std::vector<Task> tasks = chunk_tasks(tensors, count, &total);
  const int64_t n_tasks = static_cast<int64_t>(tasks.size());
#pragma omp parallel for schedule(static) num_threads(detail::threads_for(8 * total))
  for (int64_t k = 0; k < n_tasks; ++k) {
    const Task task = tasks[static_cast<size_t>(k)];
    const AdamWTensor& t = tensors[task.tensor];
    const float decay = static_cast<float>(1.0 - t.lr * t.weight_decay);
    const float neg_step_size = static_cast<float>(-(t.lr / bias_correction1));
    float* p = t.param;
    const float* g = t.grad;
    float* m = t.exp_avg;
    float* v = t.exp_avg_sq;
#pragma omp simd
    for (int64_t i = task.begin; i < task.end; ++i) {
      const float gi = g[i] * gs;
      const float mi = m[i] * beta1 + one_minus_beta1 * gi;
      const float vi = v[i] * beta2 + one_minus_beta2 * gi * gi;
      const float denom = std::sqrt(vi) / bc2_sqrt + eps;
      m[i] = mi;
      v[i] = vi;
      p[i] = p[i] * decay + neg_step_size * mi / denom;
    }
  }
}

void sgd_step(const SgdTensor* tensors, int64_t count, const SgdHyper& h) {
  constexpr const char* op = "sgd_step";
  detail::check_nonneg(op, "count", count);
  if (count == 0) return;
  detail::check_ptr(op, "tensors", tensors);
  const bool use_momentum = h.momentum != 0.0;
  for (int64_t i = 0; i < count; ++i) {
    const SgdTensor& t = tensors[i];
    check_common(op, i, "param", t.param, t.n);
    check_common(op, i, "grad", t.grad, t.n);
    if (use_momentum) check_common(op, i, "momentum_buffer", t.momentum_buffer, t.n);
  }
  const float momentum = static_cast<float>(h.momentum);
  const float gs = h.grad_scale;

  int64_t total = 0;
  const std::vector<Task> tasks = chunk_tasks(tensors, count, &total);
  const int64_t n_tasks = static_cast<int64_t>(tasks.size());
#pragma omp parallel for schedule(static) num_threads(detail::threads_for(4 * total))
  for (int64_t k = 0; k < n_tasks; ++k) {
    const Task task = tasks[static_cast<size_t>(k)];
    const SgdTensor& t = tensors[task.tensor];
    // torch adds the decay term only when weight_decay != 0, which keeps g exact (and a NaN-free g with an
    // infinite weight finite) for undecayed tensors.
    const bool decay = t.weight_decay != 0.0;
    const float wd = static_cast<float>(t.weight_decay);
    const float neg_lr = static_cast<float>(-t.lr);
    float* p = t.param;
    const float* g = t.grad;
    float* buf = t.momentum_buffer;
    if (!use_momentum) {
#pragma omp simd
      for (int64_t i = task.begin; i < task.end; ++i) {
        const float d = decay ? g[i] * gs + wd * p[i] : g[i] * gs;
        p[i] = p[i] + neg_lr * d;
      }
    } else if (h.first_step) {
#pragma omp simd
      for (int64_t i = task.begin; i < task.end; ++i) {
        const float d = decay ? g[i] * gs + wd * p[i] : g[i] * gs;
        buf[i] = d;
        p[i] = p[i] + neg_lr * d;
      }
    } else {
#pragma omp simd
      for (int64_t i = task.begin; i < task.end; ++i) {
        const float d = decay ? g[i] * gs + wd * p[i] : g[i] * gs;
        const float b = buf[i] * momentum + d;
        buf[i] = b;
        p[i] = p[i] + neg_lr * b;
      }
    }
  }
}

}  // namespace megaswift::kernels::cpu
