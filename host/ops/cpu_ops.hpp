// The CPU implementation of every msw_ops_api entry: checks shapes and dtypes, stages the tensors as dense
// float32 (tensor_args.hpp) and calls kernels/cpu. Each function receives the caller's args copied into a
// zeroed struct of this host's size (members past the caller's struct_size read as zero, ops_api.cpp), and
// throws OpError or std::exception; the table in ops_api.cpp turns those into statuses naming the op.
#pragma once

#include <megaswift/c/ops.h>

namespace megaswift::host::ops::cpu_impl {

using Ctx = const msw_exec_ctx&;
using T = const msw_tensor*;

// elementwise.cpp
void fill(Ctx, const msw_fill_args&);
void copy(Ctx, const msw_copy_args&);
void add(Ctx, const msw_add_args&);
void accumulate(Ctx, const msw_accumulate_args&);
void scale(Ctx, const msw_scale_args&);
void sum_squares(Ctx, const msw_sum_squares_args&);

// dense.cpp
void gemm(Ctx, const msw_gemm_args&);
void linear_forward(Ctx, const msw_linear_forward_args&);
void linear_backward(Ctx, const msw_linear_backward_args&);

// embedding.cpp
void embedding_forward(Ctx, const msw_embedding_forward_args&);
void embedding_backward(Ctx, const msw_embedding_backward_args&);

// norm.cpp
void rmsnorm_forward(Ctx, const msw_rmsnorm_forward_args&);
void rmsnorm_backward(Ctx, const msw_rmsnorm_backward_args&);
void layernorm_forward(Ctx, const msw_layernorm_forward_args&);
void layernorm_backward(Ctx, const msw_layernorm_backward_args&);

// rope.cpp
void rope_rotary_dim(Ctx, const msw_rope_rotary_dim_args&);
void rope_tables(Ctx, const msw_rope_tables_args&);
void rope_forward(Ctx, const msw_rope_args&);
void rope_backward(Ctx, const msw_rope_args&);

// attention.cpp
void qkv_split_forward(Ctx, const msw_qkv_split_args&);
void qkv_split_backward(Ctx, const msw_qkv_split_args&);
void attention_forward(Ctx, const msw_attention_args&);
void attention_backward(Ctx, const msw_attention_args&);

// attention_kvcache.cpp
void attention_kvcache_forward(Ctx, const msw_attention_kvcache_args&);

// activation.cpp
void swiglu_forward(Ctx, const msw_swiglu_args&);
void swiglu_backward(Ctx, const msw_swiglu_args&);
void gelu_forward(Ctx, const msw_gelu_args&);
void gelu_backward(Ctx, const msw_gelu_args&);

// loss.cpp
void cross_entropy_forward(Ctx, const msw_cross_entropy_args&);
void cross_entropy_backward(Ctx, const msw_cross_entropy_args&);

// optimizer.cpp
void adamw_step(Ctx, const msw_adamw_step_args&);
void sgd_step(Ctx, const msw_sgd_step_args&);

}  // namespace megaswift::host::ops::cpu_impl
