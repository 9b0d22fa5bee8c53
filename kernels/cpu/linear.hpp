// Dense layers on OpenBLAS: y = x W^T + b, with W stored (out, in) as in PyTorch and Megatron.
//
//   forward:  y = x W^T + b          x (M, K), W (N, K), b (N) or null, y (M, N)
//   backward: dx  = dy W             dy (M, N), dx (M, K)      written (=), or added (+=) when accumulate_dx
//             dW += dy^T x           dW (N, K)                 ACCUMULATES (+=)
//             db += sum_rows(dy)     db (N)                    ACCUMULATES (+=)
// M is every leading dimension flattened: x of shape (B, T, K) is (B*T, K).
// Any of dx, dW, db may be null to skip it (a frozen weight, a layer whose input needs no gradient).
// accumulate_dx lets two layers that read the same input (gate and up projections, a shared
// embedding) add their input gradients into one buffer for free through the GEMM's beta.
//
// gemm() is the row-major GEMM under it, exposed for the few places (attention, tied heads) that need
// a transposed operand or a leading dimension: C = alpha * op(A) op(B) + beta * C, op(A) (M, K),
// op(B) (K, N), C (M, N); lda/ldb/ldc are row strides in elements of the matrices as stored.
// A GEMM is cut into output tiles whose sizes depend on (m, n, k) alone; the kernel threads take
// tiles and run one single-threaded OpenBLAS GEMM per tile over the whole inner dimension, so results
// do not depend on the thread count. Called from inside an OpenMP region, it runs on that thread.
#pragma once

#include <cstdint>

namespace megaswift::kernels::cpu {

void gemm(bool trans_a, bool trans_b, int64_t m, int64_t n, int64_t k, float alpha, const float* a, int64_t lda,
          const float* b, int64_t ldb, float beta, float* c, int64_t ldc);

void linear_forward(const float* x, const float* weight, const float* bias, float* y, int64_t rows,
                    int64_t in_features, int64_t out_features);

void linear_backward(const float* x, const float* weight, const float* dy, int64_t rows, int64_t in_features,
                     int64_t out_features, float* dx, float* dweight, float* dbias, bool accumulate_dx = false);

}  // namespace megaswift::kernels::cpu
