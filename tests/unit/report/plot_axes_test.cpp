// The loss plots' arithmetic: TensorBoard smoothing (checked against ms-swift's formulation), tick placement and
// labels, axis padding.
#include "host/report/plot_axes.hpp"
#include "host/report/smoothing.hpp"

#include <doctest/doctest.h>

#include <cmath>
#include <limits>
#include <stdexcept>

using namespace megaswift::report;

TEST_CASE("smoothing equals ms-swift's normalised running sum and starts at the first value") {
  const std::vector<double> v = {5, 3, 4, 1, 0.5, 2, 7, -1};
  const auto s = tensorboard_smoothing(v, 0.9);
  REQUIRE(s.size() == v.size());
  CHECK(s[0] == doctest::Approx(5));
  // ms-swift: x = x * w + v_i; result x / n with n = 1 + w + ... + w^i.
  double x = 0, norm = 1;
  for (std::size_t i = 0; i < v.size(); ++i) {
    x = x * 0.9 + v[i];
    CHECK(s[i] == doctest::Approx(x / norm).epsilon(1e-12));
    norm = norm * 0.9 + 1;
  }
  CHECK(tensorboard_smoothing(v, 0.0) == v);
}

TEST_CASE("smoothing passes a NaN through and leaves it out of the average") {
  const double nan = std::numeric_limits<double>::quiet_NaN();
  const auto with_nan = tensorboard_smoothing({1, nan, 3}, 0.5);
  const auto without = tensorboard_smoothing({1, 3}, 0.5);
  CHECK(with_nan[0] == without[0]);
  CHECK(std::isnan(with_nan[1]));
  CHECK(with_nan[2] == without[1]);
  CHECK_THROWS_AS(tensorboard_smoothing({1}, 1.0), std::invalid_argument);
}

TEST_CASE("nice ticks are 1, 2, 2.5 or 5 times a power of ten inside the range") {
  auto t = nice_ticks(0, 10, 6, false);
  CHECK(t.step == 2);
  CHECK(t.values == std::vector<double>{0, 2, 4, 6, 8, 10});
  t = nice_ticks(-0.05, 1.05, 7, false);
  CHECK(t.step == doctest::Approx(0.2));
  REQUIRE(t.values.size() == 6);
  CHECK(t.values.front() == 0);
  CHECK(t.values.back() == doctest::Approx(1.0));
  t = nice_ticks(0.3, 0.31, 5, false);
  CHECK(t.step == doctest::Approx(0.0025));
  t = nice_ticks(0.5, 3.5, 7, true);  // steps: whole numbers only
  CHECK(t.step == 1);
  CHECK(t.values == std::vector<double>{1, 2, 3});
  CHECK_THROWS_AS(nice_ticks(1, 1, 5, false), std::invalid_argument);
}

TEST_CASE("tick labels carry the digits the step needs, in one notation per axis") {
  CHECK(tick_labels(nice_ticks(0, 1, 6, false)) == std::vector<std::string>{"0", "0.2", "0.4", "0.6", "0.8", "1.0"});
  CHECK(tick_labels(nice_ticks(0, 1000, 5, true)) == std::vector<std::string>{"0", "250", "500", "750", "1000"});
  CHECK(tick_labels(nice_ticks(0, 0.75, 4, false)) == std::vector<std::string>{"0", "0.25", "0.50", "0.75"});
  const auto small = tick_labels(nice_ticks(0, 2e-5, 5, false));
  CHECK(small == std::vector<std::string>{"0", "5.0e-06", "1.0e-05", "1.5e-05", "2.0e-05"});
  const auto big = tick_labels(nice_ticks(0, 3e6, 4, true));
  CHECK(big == std::vector<std::string>{"0", "1e+06", "2e+06", "3e+06"});
}

TEST_CASE("the axis range gets a 5% margin, and a flat series still gets a range") {
  double lo = 0, hi = 10;
  padded_range(lo, hi);
  CHECK(lo == doctest::Approx(-0.5));
  CHECK(hi == doctest::Approx(10.5));
  lo = hi = 2;
  padded_range(lo, hi);
  CHECK(lo < 2);
  CHECK(hi > 2);
  lo = hi = 0;
  padded_range(lo, hi);
  CHECK(lo == -1);
  CHECK(hi == 1);
}
