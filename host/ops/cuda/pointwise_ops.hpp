// The pointwise family's ops, spread over several files (norm_ops.cpp, rope_ops.cpp, pointwise_ops.cpp) and
// registered together by add_pointwise_ops; plus the argument checks they share.
#pragma once

#include "host/ops/cuda/cuda_args.hpp"

#include <megaswift/c/ops.h>

namespace megaswift::host::ops::cuda_impl {

// norm_ops.cpp
void rmsnorm_forward(Ctx ctx, const msw_rmsnorm_forward_args& a);
void rmsnorm_backward(Ctx ctx, const msw_rmsnorm_backward_args& a);
void layernorm_forward(Ctx ctx, const msw_layernorm_forward_args& a);
void layernorm_backward(Ctx ctx, const msw_layernorm_backward_args& a);

// rope_ops.cpp
void rope_tables(Ctx ctx, const msw_rope_tables_args& a);
void rope_forward(Ctx ctx, const msw_rope_args& a);
void rope_backward(Ctx ctx, const msw_rope_args& a);

// `t` has the dtype of `ref`: each kernel of this family stores its activations in one type (the CPU backend,
// which stages everything as fp32, would take a mix; here a mix is UNSUPPORTED and says so).
void require_same_dtype(const msw_tensor& t, const char* name, const msw_tensor& ref, const char* ref_name);
// `t` is a dense F32 tensor on ctx's device (saved statistics, RoPE tables: F32 by ops.h).
const msw_tensor& require_dense_f32(Ctx ctx, const msw_tensor* t, const char* name);

}  // namespace megaswift::host::ops::cuda_impl
