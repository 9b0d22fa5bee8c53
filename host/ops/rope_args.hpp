// What both backends check in the RoPE ops' arguments (ops.h): the msw_rope_config record read through its
// struct_size into the kernels' RopeConfig (validated), and the geometry of a rotation: x's tokens, heads and
// head_dim against the cos/sin tables' rows and rotary width, also for the QKV split that carries RoPE.
#pragma once

#include "host/ops/tensor_args.hpp"

#include "kernels/cpu/rope.hpp"

#include <megaswift/c/ops.h>

namespace megaswift::host::ops {

kernels::cpu::RopeConfig rope_config_of(const msw_rope_config* config);

struct RopeDims {
  int64_t tokens, heads, head_dim, rotary_dim, rows_per_position;
};

// x (..., H, D): every leading dimension is a token in activation order; the tables (already checked by the
// backend for their device and dtype) have one row per rows_per_position tokens.
RopeDims rope_dims(const msw_tensor& x, const char* xname, const msw_tensor& cos, const msw_tensor& sin,
                   int64_t rows_per_position);

// Whether the QKV split carries RoPE (ABI 2.4: cos given); sin without cos is refused.
bool split_has_rope(const msw_qkv_split_args& a);
// The rotation's geometry for the split's q and k (named qn, kn), against the tables (already checked by the
// backend for their device and dtype) as rope_forward checks it.
RopeDims split_rope_dims(const msw_qkv_split_args& a, const char* qn, const char* kn, const msw_tensor& cos,
                         const msw_tensor& sin);

}  // namespace megaswift::host::ops
