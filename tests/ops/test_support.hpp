// Shared helpers of the ops suite: seeded random data, float <-> double copies, and the gradient
// check against central finite differences of a float64 reference.
#pragma once

#include <algorithm>
#include <tuple>
#include <cmath>
#include <cstdint>
#include <functional>
#include <random>
#include <stdexcept>
#include <string>
#include <vector>

#include <doctest/doctest.h>

namespace ops_test {

using Vec = std::vector<double>;
using FVec = std::vector<float>;

inline std::mt19937_64& rng() {
  static std::mt19937_64 gen(20240611);
  return gen;
}

inline FVec random_floats(int64_t n, float lo = -1.0f, float hi = 1.0f) {
  std::uniform_real_distribution<float> dist(lo, hi);
  FVec v(static_cast<size_t>(n));
  for (auto& x : v) x = dist(rng());
  return v;
}

inline int64_t random_int(int64_t lo, int64_t hi) {  // inclusive
  return std::uniform_int_distribution<int64_t>(lo, hi)(rng());
}

inline Vec to_double(const FVec& v) { return Vec(v.begin(), v.end()); }

inline double dot(const Vec& a, const Vec& b) {
  double s = 0.0;
  for (size_t i = 0; i < a.size(); ++i) s += a[i] * b[i];
  return s;
}

// ||a - b|| / ||b||, with b the trusted value; 0 when both are zero.
inline double rel_error(const FVec& a, const Vec& b) {
  REQUIRE(a.size() == b.size());
  double num = 0.0, den = 0.0;
  for (size_t i = 0; i < a.size(); ++i) {
    num += (a[i] - b[i]) * (a[i] - b[i]);
    den += b[i] * b[i];
  }
  if (den == 0.0) return std::sqrt(num);
  return std::sqrt(num / den);
}

inline double max_abs(const Vec& v) {
  double m = 0.0;
  for (double x : v) m = std::max(m, std::abs(x));
  return m;
}

// A kernel's fp32 output against the float64 reference: norm-relative error below rel_tol and every
// element within elem_tol of the reference's largest magnitude. floor is the magnitude of the terms
// the value is computed from, when they can cancel to a much smaller result (a norm's input gradient
// with one or two channels is nearly zero): errors are then measured against the floor instead.
inline void check_close(const std::string& what, const FVec& got, const Vec& want, double rel_tol = 2e-6,
                        double elem_tol = 1e-5, double floor = 0.0) {
  INFO(what);
  REQUIRE(got.size() == want.size());
  double num = 0.0, den = 0.0;
  for (size_t i = 0; i < got.size(); ++i) {
    num += (got[i] - want[i]) * (got[i] - want[i]);
    den += want[i] * want[i];
  }
  den = std::max(den, floor * floor * static_cast<double>(got.size()));
  CHECK((den == 0.0 ? std::sqrt(num) : std::sqrt(num / den)) < rel_tol);
  const double scale = std::max({max_abs(want), floor, 1e-30});
  double worst = 0.0;
  for (size_t i = 0; i < got.size(); ++i) worst = std::max(worst, std::abs(got[i] - want[i]) / scale);
  CHECK(worst < elem_tol);
}

// Central finite differences of loss() with respect to x (the float64 copy that loss() reads), at
// up to max_coords coordinates (all when x is small, else an even spread), compared with the
// kernel's analytic gradient.
inline void check_gradient(const std::string& what, Vec& x, const FVec& analytic, const std::function<double()>& loss,
                           int64_t max_coords = 400, double rel_tol = 1e-4, double elem_tol = 1e-3,
                           double floor = 0.0) {
  INFO("gradient of " << what);
  REQUIRE(analytic.size() == x.size());
  const auto n = static_cast<int64_t>(x.size());
  const int64_t stride = n <= max_coords ? 1 : (n + max_coords - 1) / max_coords;
  FVec got;
  Vec want;
  for (int64_t i = (stride > 1 ? random_int(0, stride - 1) : 0); i < n; i += stride) {
    const double saved = x[i];
    const double h = 1e-5 * std::max(1.0, std::abs(saved));
    x[i] = saved + h;
    const double up = loss();
    x[i] = saved - h;
    const double down = loss();
    x[i] = saved;
    want.push_back((up - down) / (2.0 * h));
    got.push_back(analytic[i]);
  }
  check_close(what, got, want, rel_tol, elem_tol, floor);
}

// Prefilled accumulation buffer: tests start parameter gradients from non-zero values to pin +=.
inline FVec prefill(int64_t n) { return random_floats(n, -0.5f, 0.5f); }

inline FVec minus(const FVec& a, const FVec& b) {
  FVec r(a.size());
  for (size_t i = 0; i < a.size(); ++i) r[i] = a[i] - b[i];
  return r;
}

}  // namespace ops_test
