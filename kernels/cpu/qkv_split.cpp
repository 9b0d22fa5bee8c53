// Megatron's per-group QKV layout split into q, k, v and joined back (see qkv_split.hpp).
#include <kernels/cpu/qkv_split.hpp>

#include <algorithm>
#include <string>

#include <kernels/cpu/detail/checks.hpp>
#include <kernels/cpu/detail/parallel.hpp>

namespace megaswift::kernels::cpu {
namespace {

void check(const char* op, int64_t rows, int64_t q_heads, int64_t kv_heads, int64_t head_dim) {
  detail::check_nonneg(op, "rows", rows);
  detail::check_positive(op, "q_heads", q_heads);
  detail::check_positive(op, "kv_heads", kv_heads);
  detail::check_positive(op, "head_dim", head_dim);
  if (q_heads % kv_heads != 0) {
    detail::fail(op, "q_heads " + std::to_string(q_heads) + " is not a multiple of kv_heads " +
                         std::to_string(kv_heads));
  }
}

}  // namespace

void qkv_split_forward(const float* qkv, float* q, float* k, float* v, int64_t rows, int64_t q_heads,
                       int64_t kv_heads, int64_t head_dim) {
  constexpr const char* op = "qkv_split_forward";
  check(op, rows, q_heads, kv_heads, head_dim);
  if (rows == 0) return;
  for (auto [name, p] : {std::pair{"qkv", static_cast<const void*>(qkv)}, {"q", q}, {"k", k}, {"v", v}}) {
    detail::check_ptr(op, name, p);
  }
  const int64_t n = q_heads / kv_heads, D = head_dim;
  const int64_t width = kv_heads * (n + 2) * D;
#pragma omp parallel for schedule(static) num_threads(detail::threads_for(rows * width))
  for (int64_t r = 0; r < rows; ++r) {
    const float* src = qkv + r * width;
    for (int64_t g = 0; g < kv_heads; ++g) {
      const float* grp = src + g * (n + 2) * D;
      std::copy(grp, grp + n * D, q + (r * q_heads + g * n) * D);
      std::copy(grp + n * D, grp + (n + 1) * D, k + (r * kv_heads + g) * D);
      std::copy(grp + (n + 1) * D, grp + (n + 2) * D, v + (r * kv_heads + g) * D);
    }
  }
}

void qkv_split_backward(const float* dq, const float* dk, const float* dv, float* dqkv, int64_t rows,
                        int64_t q_heads, int64_t kv_heads, int64_t head_dim) {
  constexpr const char* op = "qkv_split_backward";
  check(op, rows, q_heads, kv_heads, head_dim);
  if (rows == 0) return;
  for (auto [name, p] : {std::pair{"dq", static_cast<const void*>(dq)}, {"dk", dk}, {"dv", dv}, {"dqkv", dqkv}}) {
    detail::check_ptr(op, name, p);
  }
  const int64_t n = q_heads / kv_heads, D = head_dim;
  const int64_t width = kv_heads * (n + 2) * D;
#pragma omp parallel for schedule(static) num_threads(detail::threads_for(rows * width))
  for (int64_t r = 0; r < rows; ++r) {
    float* dst = dqkv + r * width;
    for (int64_t g = 0; g < kv_heads; ++g) {
      float* grp = dst + g * (n + 2) * D;
      const float* dq_g = dq + (r * q_heads + g * n) * D;
      const float* dk_g = dk + (r * kv_heads + g) * D;
      const float* dv_g = dv + (r * kv_heads + g) * D;
      std::copy(dq_g, dq_g + n * D, grp);
      std::copy(dk_g, dk_g + D, grp + n * D);
      std::copy(dv_g, dv_g + D, grp + (n + 1) * D);
    }
  }
}

}  // namespace megaswift::kernels::cpu
