// Reductions for gradient norms and clipping.
//
//   sum_squares(x, n) = sum_i x[i]^2 in double, over fixed 4096-element chunks summed in chunk order,
//   so the value is the same for any thread count (and the same on every rank holding the same data).
//   Non-finite inputs propagate (inf or NaN comes back, which the caller reports as a bad gradient).
#pragma once

#include <cstdint>

namespace megaswift::kernels::cpu {

double sum_squares(const float* x, int64_t n);

}  // namespace megaswift::kernels::cpu
