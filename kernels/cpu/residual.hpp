// Residual add and the element-wise helpers that gradients need.
//
//   residual_add:  out = a + alpha * b      a, b, out: n elements (e.g. (S, B, C) flattened); out may alias a or b
//                  (alpha 1 is the plain residual add, exactly a + b)
//   backward of out = a + b is da = dout and db = dout: the residual stream's gradient passes through
//   unchanged and the branch's gradient is added into it with accumulate:
//   accumulate:    dst += src               (dst and src must not overlap partially; dst == src doubles it)
//   scale:         x *= s
#pragma once

#include <cstdint>

namespace megaswift::kernels::cpu {

void residual_add(const float* a, const float* b, float* out, int64_t n, float alpha = 1.0f);

void accumulate(float* dst, const float* src, int64_t n);

void scale(float* x, int64_t n, float s);

}  // namespace megaswift::kernels::cpu
