// SwiGLU, GELU, cross-entropy and the vectorized exp under softmax: forward against the float64
// reference, backward against central differences of it.
#include <doctest/doctest.h>

#include <cmath>
#include <cstring>
#include <limits>

#include <kernels/cpu/cross_entropy.hpp>
#include <kernels/cpu/detail/vmath.hpp>
#include <kernels/cpu/gelu.hpp>
#include <kernels/cpu/swiglu.hpp>

#include "reference_activation.hpp"
#include "test_support.hpp"

namespace cpu = megaswift::kernels::cpu;
using namespace ops_test;

TEST_CASE("swiglu on Megatron's fused gate-up rows computes silu(gate)*up and fills the fused gradient") {
  for (auto [rows, f] : {std::pair{1, 1}, {3, 7}, {17, 3}, {7, 17}}) {
    CAPTURE(rows);
    CAPTURE(f);
    FVec fc1 = random_floats(rows * 2 * f, -4.0f, 4.0f);
    FVec out(rows * f);
    cpu::swiglu_forward(fc1.data(), fc1.data() + f, 2 * f, out.data(), rows, f);
    Vec fd = to_double(fc1);
    auto split = [&](const Vec& all, Vec& gate, Vec& up) {
      gate.clear();
      up.clear();
      for (int64_t i = 0; i < rows; ++i)
        for (int64_t j = 0; j < 2 * f; ++j) (j < f ? gate : up).push_back(all[i * 2 * f + j]);
    };
    Vec gate, up;
    split(fd, gate, up);
    check_close("swiglu forward", out, ops_ref::swiglu(gate, up), 2e-6, 2e-6);

    FVec g = random_floats(rows * f);
    FVec dfc1(rows * 2 * f, 99.0f);
    cpu::swiglu_backward(fc1.data(), fc1.data() + f, 2 * f, g.data(), dfc1.data(), dfc1.data() + f, rows, f);
    const Vec gd = to_double(g);
    check_gradient("fused fc1", fd, dfc1, [&] {
      Vec gt, u;
      split(fd, gt, u);
      return dot(gd, ops_ref::swiglu(gt, u));
    });
  }
}

TEST_CASE("swiglu with separate gate and up buffers (ld_in = cols) matches the fused layout") {
  const int64_t rows = 5, f = 9;
  FVec gate = random_floats(rows * f, -3.0f, 3.0f), up = random_floats(rows * f), out(rows * f);
  cpu::swiglu_forward(gate.data(), up.data(), f, out.data(), rows, f);
  check_close("swiglu separate", out, ops_ref::swiglu(to_double(gate), to_double(up)), 2e-6, 2e-6);
  FVec g = random_floats(rows * f), dg(rows * f), du(rows * f);
  cpu::swiglu_backward(gate.data(), up.data(), f, g.data(), dg.data(), du.data(), rows, f);
  Vec gd = to_double(gate), ud = to_double(up);
  const Vec gg = to_double(g);
  auto loss = [&] { return dot(gg, ops_ref::swiglu(gd, ud)); };
  check_gradient("gate", gd, dg, loss);
  check_gradient("up", ud, du, loss);
}

TEST_CASE("gelu exact (erf) and tanh approximation: forward and backward against the float64 reference") {
  for (auto approx : {cpu::GeluApproximation::none, cpu::GeluApproximation::tanh}) {
    for (int64_t n : {1, 3, 7, 17, 301}) {
      CAPTURE(n);
      FVec x = random_floats(n, -5.0f, 5.0f);
      auto ref = [&](const Vec& xs) {
        Vec y(xs.size());
        for (size_t i = 0; i < xs.size(); ++i)
          y[i] = approx == cpu::GeluApproximation::tanh ? ops_ref::gelu_tanh(xs[i]) : ops_ref::gelu_erf(xs[i]);
        return y;
      };
      FVec y(n);
      cpu::gelu_forward(x.data(), y.data(), n, approx);
      check_close("gelu forward", y, ref(to_double(x)), 2e-6, 2e-6);
      FVec g = random_floats(n), dx(n);
      cpu::gelu_backward(x.data(), g.data(), dx.data(), n, approx);
      Vec xd = to_double(x);
      const Vec gd = to_double(g);
      check_gradient("x", xd, dx, [&] { return dot(gd, ref(xd)); });
    }
  }
}

TEST_CASE("cross-entropy averages over non-ignored rows and returns their count with dlogits (softmax - onehot)/count") {
  for (auto [rows, vocab] : {std::pair{1, 1}, {3, 7}, {17, 3}, {7, 17}, {5, 1000}}) {
    CAPTURE(rows);
    CAPTURE(vocab);
    FVec logits = random_floats(rows * vocab, -6.0f, 6.0f);
    std::vector<int64_t> labels(rows);
    for (auto& y : labels) y = random_int(0, vocab - 1);
    if (rows > 1) labels[1] = cpu::kIgnoreIndex;
    FVec lse(rows), per_token(rows, 5.0f);
    const auto result = cpu::cross_entropy_forward(logits.data(), labels.data(), rows, vocab, lse.data(), per_token.data());
    const auto want = ops_ref::cross_entropy(to_double(logits), labels, vocab);
    CHECK(result.count == want.count);
    CHECK(result.loss == doctest::Approx(want.loss).epsilon(1e-6));
    CHECK(result.loss_sum == doctest::Approx(want.loss * want.count).epsilon(1e-6));
    if (rows > 1) CHECK(per_token[1] == 0.0f);

    const float scale = cpu::cross_entropy_mean_scale(result.count);
    FVec dlogits(rows * vocab, 3.0f);
    cpu::cross_entropy_backward(logits.data(), labels.data(), lse.data(), rows, vocab, scale, dlogits.data());
    Vec ld = to_double(logits);
    check_gradient("logits", ld, dlogits, [&] { return ops_ref::cross_entropy(ld, labels, vocab).loss; }, 400, 1e-4,
                   2e-3);
    if (rows > 1) {
      for (int64_t v = 0; v < vocab; ++v) CHECK(dlogits[1 * vocab + v] == 0.0f);
    }

    // In place over the logits gives the same gradient.
    FVec inplace = logits;
    cpu::cross_entropy_backward(inplace.data(), labels.data(), lse.data(), rows, vocab, scale, inplace.data());
    CHECK(inplace == dlogits);
  }
}

TEST_CASE("cross-entropy of an all-ignored batch is loss 0 with count 0 and an all-zero gradient") {
  const int64_t rows = 4, vocab = 5;
  FVec logits = random_floats(rows * vocab);
  std::vector<int64_t> labels(rows, cpu::kIgnoreIndex);
  FVec lse(rows);
  const auto r = cpu::cross_entropy_forward(logits.data(), labels.data(), rows, vocab, lse.data());
  CHECK(r.count == 0);
  CHECK(r.loss == 0.0);
  CHECK(r.loss_sum == 0.0);
  CHECK(cpu::cross_entropy_mean_scale(0) == 0.0f);
  FVec d(rows * vocab, 1.0f);
  cpu::cross_entropy_backward(logits.data(), labels.data(), lse.data(), rows, vocab, 1.0f, d.data());
  for (float v : d) CHECK(v == 0.0f);
}

TEST_CASE("cross-entropy rejects a label outside the vocabulary that is not the ignore index") {
  FVec logits(2 * 3), lse(2);
  std::vector<int64_t> labels{0, 3};
  CHECK_THROWS_WITH_AS(cpu::cross_entropy_forward(logits.data(), labels.data(), 2, 3, lse.data()),
                       doctest::Contains("label 3 at row 1"), std::invalid_argument);
  labels[1] = -1;
  CHECK_THROWS_AS(cpu::cross_entropy_forward(logits.data(), labels.data(), 2, 3, lse.data()), std::invalid_argument);
  labels[1] = -1;  // a custom ignore index is honoured
  CHECK(cpu::cross_entropy_forward(logits.data(), labels.data(), 2, 3, lse.data(), nullptr, -1).count == 1);
}

TEST_CASE("the vectorized exp under softmax is within 2 ulp of exp and exact at its limits") {
  double worst = 0.0;
  for (int i = 0; i <= 200000; ++i) {
    const float x = -87.0f + 175.0f * static_cast<float>(i) / 200000.0f;
    const double want = std::exp(static_cast<double>(x));
    const double got = megaswift::kernels::cpu::detail::exp_fast(x);
    worst = std::max(worst, std::abs(got - want) / want);
  }
  CHECK(worst < 2.5 * std::numeric_limits<float>::epsilon());
  using megaswift::kernels::cpu::detail::exp_fast;
  CHECK(exp_fast(0.0f) == 1.0f);
  CHECK(exp_fast(-100.0f) == 0.0f);
  CHECK(exp_fast(-std::numeric_limits<float>::infinity()) == 0.0f);
  CHECK(std::isinf(exp_fast(100.0f)));
  CHECK(std::isnan(exp_fast(std::numeric_limits<float>::quiet_NaN())));
  CHECK(std::isfinite(exp_fast(88.72f)));
}
