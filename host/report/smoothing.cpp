#include "host/report/smoothing.hpp"

#include <cmath>
#include <stdexcept>
#include <string>

namespace megaswift::report {

std::vector<double> tensorboard_smoothing(const std::vector<double>& values, double weight) {
  if (!(weight >= 0 && weight < 1))
    throw std::invalid_argument("smoothing weight " + std::to_string(weight) + " is outside [0, 1)");
  std::vector<double> out;
  out.reserve(values.size());
  double ema = 0, weight_power = 1;  // weight_power = weight^k for the k finite values so far
  for (double v : values) {
    if (!std::isfinite(v)) {
      out.push_back(v);
      continue;
    }
    ema = weight * ema + (1 - weight) * v;
    weight_power *= weight;
    out.push_back(ema / (1 - weight_power));
  }
  return out;
}

}  // namespace megaswift::report
