// The CPU implementation of every msw_ops_api entry: checks shapes and dtypes, stages the tensors as dense
// float32 (tensor_args.hpp) and calls kernels/cpu. Each function throws OpError or std::exception; the table
// in ops_api.cpp turns those into statuses naming the op.
#pragma once

#include <megaswift/c/ops.h>

namespace megaswift::host::ops::cpu_impl {

using T = const msw_tensor*;
using Ctx = const msw_exec_ctx&;

// elementwise.cpp
void fill(Ctx, T out, double value);
void copy(Ctx, T src, T dst);
void add(Ctx, T a, T b, T out);
void accumulate(Ctx, T src, T dst);
void scale(Ctx, T x, double s);
void sum_squares(Ctx, T x, double* out);

// dense.cpp
void gemm(Ctx, int32_t trans_a, int32_t trans_b, double alpha, T a, T b, double beta, T c);
void linear_forward(Ctx, T x, T weight, T bias, T y);
void linear_backward(Ctx, T x, T weight, T dy, T dx, T dweight, T dbias, int32_t accumulate_dx);

// embedding.cpp
void embedding_forward(Ctx, T ids, T table, T out);
void embedding_backward(Ctx, T ids, T dout, T dtable);

// norm.cpp
void rmsnorm_forward(Ctx, T x, T weight, double eps, T y, T rstd);
void rmsnorm_backward(Ctx, T x, T weight, T rstd, T dy, T dx, T dweight);
void layernorm_forward(Ctx, T x, T weight, T bias, double eps, T y, T mean, T rstd);
void layernorm_backward(Ctx, T x, T weight, T mean, T rstd, T dy, T dx, T dweight, T dbias);

// rope.cpp
void rope_rotary_dim(Ctx, const msw_rope_config* config, int64_t* out);
void rope_tables(Ctx, const msw_rope_config* config, T positions, T cos, T sin);
void rope_forward(Ctx, T x, T cos, T sin, T y);
void rope_backward(Ctx, T dy, T cos, T sin, T dx);

// attention.cpp
void qkv_split_forward(Ctx, T qkv, T q, T k, T v);
void qkv_split_backward(Ctx, T dq, T dk, T dv, T dqkv);
void attention_forward(Ctx, T q, T k, T v, double scale, T out, T lse, T probs);
void attention_backward(Ctx, T q, T k, T v, T out, T lse, T probs, T dout, double scale, T dq, T dk, T dv);

// activation.cpp
void swiglu_forward(Ctx, T x, T out);
void swiglu_backward(Ctx, T x, T dout, T dx);
void gelu_forward(Ctx, T x, T y, int32_t approximation);
void gelu_backward(Ctx, T x, T dy, T dx, int32_t approximation);

// loss.cpp
void cross_entropy_forward(Ctx, T logits, T labels, int64_t ignore_index, T lse, T per_token_loss,
                           msw_cross_entropy_result* out);
void cross_entropy_backward(Ctx, T logits, T labels, T lse, int64_t ignore_index, double grad_scale, T dlogits);

}  // namespace megaswift::host::ops::cpu_impl
