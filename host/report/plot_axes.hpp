// Axis scaling for the loss plots: "nice" tick positions (1, 2, 2.5, 5 times a power of ten) and their labels.
#pragma once

#include <string>
#include <vector>

namespace megaswift::report {

struct Ticks {
  double step = 0;
  std::vector<double> values;  // multiples of step inside [lo, hi], ascending
};

// About `target` ticks across [lo, hi] (lo < hi). integer_only keeps the step a whole number (training steps).
Ticks nice_ticks(double lo, double hi, int target, bool integer_only);

// The labels of an axis's ticks: enough digits to tell neighbouring ticks apart; plain notation (the same number of
// decimals on the whole axis) unless the axis's largest tick is very large or small, then exponent notation.
std::vector<std::string> tick_labels(const Ticks& ticks);

// The axis range that shows [lo, hi] with a 5% margin on each side (matplotlib's default), widened around a
// single value so a flat curve still gets an axis.
void padded_range(double& lo, double& hi);

}  // namespace megaswift::report
