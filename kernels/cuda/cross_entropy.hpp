// Cross-entropy over the vocabulary with an ignore index (the ops table's cross_entropy_forward/backward; the
// CPU reference is kernels/cpu/cross_entropy.hpp).
//
//   forward, row i (one block per row, one pass over the logits: a running max and sum of exponentials, fp32):
//     lse[i] = log sum_v exp(logits[i, v]) (every row, ignored ones too);
//     loss_i = lse[i] - logits[i, label_i] for a counted row (label != ignore_index), 0 for an ignored one;
//     per_token_loss[i] = loss_i (optional); loss_sum += sum of loss_i and count += counted rows (optional
//     device scalars), summed by one block in an order fixed by the row count (no float atomics).
//   backward: dlogits[i, v] = grad_scale * (exp(logits[i, v] - lse[i]) - [v == label_i]), 0 on ignored rows,
//     written; grad_scale from a number or a device scalar. dlogits may alias logits.
// Labels (I64 or I32) are vocabulary ids; a row's target column is label - vocab_start (the first column of
// this shard). A label that is not ignore_index and falls outside the columns cannot be reported without a host
// read: its row gets a NaN loss (so loss_sum turns NaN) and a NaN gradient, where the CPU backend throws.
#pragma once

#include <kernels/cuda/gemm.hpp>
#include <kernels/cuda/launch.hpp>

#include <cstdint>

namespace megaswift::kernels::cuda {

struct CeLabels {
  const void* data = nullptr;
  bool is_i32 = false;
  int64_t ignore_index = -100;
  int64_t vocab_start = 0;
};

// A device scalar a kernel reads or adds to.
struct DeviceScalar {
  void* data = nullptr;  // NULL: absent
  bool is_f64 = false;
};

// lse and per_token_loss are dense vectors of `rows` elements (per_token_loss.data may be NULL); loss_sum (F32 or
// F64) and count (I64) may be absent. `row_loss` is logits.rows doubles of device scratch.
void cross_entropy_forward(const Matrix& logits, const CeLabels& labels, void* lse, Dtype lse_dtype,
                           void* per_token_loss, Dtype per_token_loss_dtype, DeviceScalar loss_sum, int64_t* count,
                           double* row_loss, Stream stream);

// grad_scale_tensor (F32/F64), when given, replaces grad_scale.
void cross_entropy_backward(const Matrix& logits, const CeLabels& labels, const void* lse, Dtype lse_dtype,
                            float grad_scale, DeviceScalar grad_scale_tensor, const Matrix& dlogits, Stream stream);

}  // namespace megaswift::kernels::cuda
