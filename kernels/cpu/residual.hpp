// Residual add and the element-wise helpers that gradients need.
//
//   residual_add:  out = a + b              a, b, out: n elements (e.g. (B, T, C) flattened); out may alias a or b
//   backward of out = a + b is da = dout and db = dout: the residual stream's gradient passes through
//   unchanged and the branch's gradient is added into it with accumulate:
//   accumulate:    dst += src               (dst and src must not overlap partially; dst == src doubles it)
//   scale:         x *= s
#pragma once

#include <cstdint>

namespace megaswift::kernels::cpu {

void residual_add(const float* a, const float* b, float* out, int64_t n);

void accumulate(float* dst, const float* src, int64_t n);

void scale(float* x, int64_t n, float s);

}  // namespace megaswift::kernels::cpu
