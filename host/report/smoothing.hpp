// TensorBoard's scalar smoothing: a debiased exponential moving average (the dashboard's "Smoothing" slider, which
// ms-swift's loss plots reproduce with weight 0.9).
#pragma once

#include <vector>

namespace megaswift::report {

// smoothed[i] = ema[i] / (1 - weight^k) with ema[i] = weight * ema[i-1] + (1 - weight) * v[i] over the k finite
// values so far, so the first point equals the first value rather than being pulled toward zero. A non-finite value
// is passed through and left out of the average, as TensorBoard does. weight must lie in [0, 1).
std::vector<double> tensorboard_smoothing(const std::vector<double>& values, double weight = 0.9);

}  // namespace megaswift::report
