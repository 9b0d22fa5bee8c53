// Cross-entropy over the vocabulary with an ignore index, averaged over the counted tokens.
//
//   forward:  for each row i with labels[i] != ignore_index:
//               lse[i] = log sum_v exp(logits[i,v]);  loss_i = lse[i] - logits[i, labels[i]]
//             loss = sum_i loss_i / count,  count = number of rows not ignored
//             logits (N, V), labels (N) already aligned with the rows (the caller shifts labels by one
//             for next-token prediction, as Megatron/ms-swift do), lse (N) saved for backward,
//             per_token_loss (N) optional (0 on ignored rows).
//   all rows ignored: count = 0 and loss = 0 (not NaN), and the backward gives all-zero dlogits, so an
//   empty micro-batch contributes nothing.
//   backward: dlogits[i,v] = grad_scale * (softmax(logits[i])[v] - [v == labels[i]]), 0 on ignored rows;
//             written (=). For the mean loss, grad_scale = dloss / count (cross_entropy_mean_scale gives
//             1/count, 0 when count is 0); a sum over micro-batches divides by their total count instead.
//             dlogits may alias logits (computed in place, saving an (N, V) buffer).
// A label outside [0, V) that is not ignore_index throws std::invalid_argument naming row and label.
// Row sums are taken in double, rows spread over threads, the total summed in row order.
#pragma once

#include <cstdint>

namespace megaswift::kernels::cpu {

inline constexpr int64_t kIgnoreIndex = -100;

struct CrossEntropyResult {
  double loss = 0.0;      // mean over counted rows (0 when count == 0)
  double loss_sum = 0.0;  // sum over counted rows
  int64_t count = 0;      // rows whose label is not ignore_index
};

CrossEntropyResult cross_entropy_forward(const float* logits, const int64_t* labels, int64_t rows, int64_t vocab,
                                         float* lse, float* per_token_loss = nullptr,
                                         int64_t ignore_index = kIgnoreIndex);

void cross_entropy_backward(const float* logits, const int64_t* labels, const float* lse, int64_t rows,
                            int64_t vocab, float grad_scale, float* dlogits, int64_t ignore_index = kIgnoreIndex);

// 1/count, or 0 when count == 0.
float cross_entropy_mean_scale(int64_t count);

}  // namespace megaswift::kernels::cpu
