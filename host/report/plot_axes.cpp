#include "host/report/plot_axes.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <stdexcept>

namespace megaswift::report {

Ticks nice_ticks(double lo, double hi, int target, bool integer_only) {
  if (!(std::isfinite(lo) && std::isfinite(hi) && lo < hi) || target < 2)
    throw std::invalid_argument("nice_ticks needs a finite range lo < hi and at least two ticks");
  const double raw = (hi - lo) / (target - 1);
  const double magnitude = std::pow(10.0, std::floor(std::log10(raw)));
  double step = 10 * magnitude;
  // The tolerance keeps rounding (0.01 / 4 > 2.5 * 0.001 in doubles) from skipping a step that fits exactly.
  for (double m : {1.0, 2.0, 2.5, 5.0}) {
    if (m * magnitude >= raw * (1 - 1e-9)) {
      step = m * magnitude;
      break;
    }
  }
  if (integer_only) step = std::max(1.0, std::round(step));
  Ticks t{step, {}};
  // Rounding to a multiple of step keeps 0.30000000000000004 from becoming a label.
  for (double k = std::ceil(lo / step - 1e-9); k * step <= hi + step * 1e-9; k += 1) {
    const double v = k * step;
    t.values.push_back(std::abs(v) < step * 1e-9 ? 0.0 : v);
  }
  return t;
}

std::vector<std::string> tick_labels(const Ticks& ticks) {
  double largest = 0;
  for (double v : ticks.values) largest = std::max(largest, std::abs(v));
  const double step_exponent = std::floor(std::log10(ticks.step));
  // A step of 2.5 times a power of ten needs one digit more than that power.
  const int extra = std::abs(ticks.step / std::pow(10.0, step_exponent) - 2.5) < 1e-9 ? 1 : 0;
  const double axis_exponent = std::floor(std::log10(std::max(largest, ticks.step)));
  const bool exponent_notation = axis_exponent >= 6 || axis_exponent <= -4;
  std::vector<std::string> labels;
  char buf[64];
  for (double v : ticks.values) {
    if (v == 0) {
      labels.emplace_back("0");
      continue;
    }
    if (exponent_notation) {
      const int digits = std::clamp(static_cast<int>(axis_exponent - step_exponent) + 1 + extra, 1, 12);
      std::snprintf(buf, sizeof(buf), "%.*e", digits - 1, v);
    } else {
      const int decimals = std::clamp(static_cast<int>(-step_exponent) + extra, 0, 12);
      std::snprintf(buf, sizeof(buf), "%.*f", decimals, v);
    }
    labels.emplace_back(buf);
  }
  return labels;
}

void padded_range(double& lo, double& hi) {
  if (hi - lo <= std::abs(hi) * 1e-12) {
    const double half = lo == 0 ? 1.0 : std::abs(lo) * 0.05;
    lo -= half;
    hi += half;
    return;
  }
  const double margin = (hi - lo) * 0.05;
  lo -= margin;
  hi += margin;
}

}  // namespace megaswift::report
