// Dense matrix products on cuBLASLt and the small kernels around them (the GEMM, linear forward/backward).
//
// Matrices are row-major as the ops see them: element (i, j) of a matrix at i * ld + j (ld = row stride in
// elements, >= its width). cuBLASLt is column-major, so a row-major C = op(A) op(B) runs as the column-major
// C^T = op(B)^T op(A)^T: the operands swap and keep their storage, nothing is copied.
//
// Arithmetic is fp32 (CUBLAS_COMPUTE_32F, never TF32: f32 results must equal an fp32 GEMM to 1e-5) whatever
// the storage. cuBLASLt multiplies a few storage combinations directly (lt_direct): A and B of one type, C/D of
// that type or F32 when A/B are 16-bit (an fp32 main gradient accumulated from bf16 activations). Other
// combinations are the caller's to stage (host/ops/cuda/dense_ops.cpp converts them to f32 first).
#pragma once

#include <kernels/cuda/launch.hpp>

#include <cstddef>
#include <cstdint>

namespace megaswift::kernels::cuda {

// A row-major matrix in device memory.
struct Matrix {
  void* data = nullptr;
  Dtype dtype = Dtype::f32;
  int64_t rows = 0;
  int64_t cols = 0;
  int64_t ld = 0;  // row stride in elements, >= cols
};

// C = alpha * op(A) op(B) + beta * C (+ bias[j] on every row when bias is given; the bias has C's dtype and
// cols(C) elements, dense). op(A) is (m, k), op(B) (k, n), C (m, n); k >= 1, m, n >= 1.
struct LtProblem {
  Matrix a, b, c;
  bool trans_a = false;
  bool trans_b = false;
  float alpha = 1.0f;
  float beta = 0.0f;
  const void* bias = nullptr;
};

// Whether cuBLASLt multiplies A/B stored as `ab` into C/D stored as `c` directly with fp32 compute.
bool lt_direct(Dtype ab, Dtype c);

// The algorithm cuBLASLt's heuristic picked for one problem shape on one device (cached, never freed: a process
// sees few distinct shapes). NULL when cuBLASLt has none for it (then the caller stages to something simpler).
// With MEGASWIFT_GEMM_AUTOTUNE=1 ("0" or unset: off; anything else is a KernelError) a new shape's first call
// instead times the heuristic's first 8 candidates on p's operands on `stream` (synchronizing it) and keeps the
// fastest; while the stream is being captured into a graph it keeps the heuristic's first.
struct LtChoice;
const LtChoice* lt_choose(int device, const LtProblem& p, Stream stream);
// Workspace the choice needs (bytes of device memory aligned to 256, passed to lt_matmul).
size_t lt_workspace_bytes(const LtChoice* choice);
// Runs the problem with the choice lt_choose returned for it (the same shapes, dtypes and pointer alignments).
void lt_matmul(int device, const LtProblem& p, const LtChoice* choice, void* workspace, Stream stream);

// C = beta * C (beta 0 writes zeros, even over NaN, as BLAS does): the product of an empty inner dimension.
void scale_matrix(const Matrix& c, float beta, Stream stream);
// out[i, j] = bias[j] for every row (bias dense, `bias_dtype`): the bias of a linear layer laid down before a
// beta = 1 product when the cuBLASLt bias epilogue cannot take it.
void broadcast_rows(const Matrix& out, const void* bias, Dtype bias_dtype, Stream stream);

// dbias[j] += sum_i dy[i, j], deterministic: fixed blocks of kColumnSumRowBlock rows summed in double, then the
// block partials added in block order (the CPU backend's column_reduce), so the result depends on the shape
// alone. `partials` is column_sum_partials(rows, cols) doubles of device scratch.
constexpr int64_t kColumnSumRowBlock = 256;
int64_t column_sum_partials(int64_t rows, int64_t cols);
void column_sum(const Matrix& dy, void* dbias, Dtype dbias_dtype, double* partials, Stream stream);

}  // namespace megaswift::kernels::cuda
