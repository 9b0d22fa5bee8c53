// Causal GQA attention: forward (out, lse, saved probabilities) against the float64 reference, and
// dq, dk, dv against central differences of it, with saved and with recomputed probabilities, over
// shapes that cross the kernel's 64-query blocks.
#include <doctest/doctest.h>

#include <cmath>
#include <tuple>

#include <kernels/cpu/attention.hpp>

#include "reference_attention.hpp"
#include "test_support.hpp"

namespace cpu = megaswift::kernels::cpu;
using namespace ops_test;

TEST_CASE("causal GQA attention forward and backward match the float64 reference and its finite differences") {
  for (auto [B, T, Hq, Hkv, D] : {std::tuple{1, 1, 1, 1, 1}, {2, 3, 2, 1, 7}, {1, 17, 6, 3, 5}, {2, 7, 4, 4, 3},
                                  {1, 70, 2, 1, 4}, {1, 130, 1, 1, 3}}) {
    CAPTURE(B);
    CAPTURE(T);
    CAPTURE(Hq);
    CAPTURE(Hkv);
    CAPTURE(D);
    const cpu::AttentionShape shape{B, T, Hq, Hkv, D};
    const float scale = 1.0f / std::sqrt(static_cast<float>(D));
    FVec q = random_floats(B * T * Hq * D, -2.0f, 2.0f), k = random_floats(B * T * Hkv * D, -2.0f, 2.0f),
         v = random_floats(B * T * Hkv * D);
    FVec out(q.size()), lse(B * Hq * T), probs(B * Hq * T * T, -1.0f);
    cpu::attention_forward(shape, q.data(), k.data(), v.data(), scale, out.data(), lse.data(), probs.data());
    Vec want_lse;
    const Vec want = ops_ref::attention(to_double(q), to_double(k), to_double(v), B, T, Hq, Hkv, D, scale, &want_lse);
    check_close("attention out", out, want, 5e-6, 5e-6);
    check_close("attention lse", lse, want_lse, 5e-6, 5e-6);

    // Saved probabilities: rows sum to 1 over the causal prefix and are 0 above the diagonal.
    for (int64_t row = 0; row < B * Hq * T; ++row) {
      const int64_t t = row % T;
      double s = 0.0;
      for (int64_t u = 0; u < T; ++u) {
        if (u > t) {
          CHECK(probs[row * T + u] == 0.0f);
        } else {
          s += probs[row * T + u];
        }
      }
      CHECK(s == doctest::Approx(1.0).epsilon(1e-5));
    }

    // Forward without probs gives the same output.
    FVec out2(q.size()), lse2(lse.size());
    cpu::attention_forward(shape, q.data(), k.data(), v.data(), scale, out2.data(), lse2.data());
    CHECK(out2 == out);
    CHECK(lse2 == lse);

    FVec g = random_floats(q.size());
    const Vec gd = to_double(g);
    Vec qd = to_double(q), kd = to_double(k), vd = to_double(v);
    auto loss = [&] { return dot(gd, ops_ref::attention(qd, kd, vd, B, T, Hq, Hkv, D, scale)); };
    for (bool saved : {true, false}) {
      CAPTURE(saved);
      FVec dq(q.size(), 9.0f), dk(k.size(), 9.0f), dv(v.size(), 9.0f);
      cpu::attention_backward(shape, q.data(), k.data(), v.data(), out.data(), lse.data(),
                              saved ? probs.data() : nullptr, g.data(), scale, dq.data(), dk.data(), dv.data());
      check_gradient("q", qd, dq, loss, 200);
      check_gradient("k", kd, dk, loss, 200);
      check_gradient("v", vd, dv, loss, 200);
    }
  }
}

TEST_CASE("attention rejects q_heads that are not a multiple of kv_heads") {
  CHECK_THROWS_WITH_AS(cpu::attention_validate({1, 4, 6, 4, 8}), doctest::Contains("q_heads 6 is not a multiple"),
                       std::invalid_argument);
  CHECK_THROWS_WITH_AS(cpu::attention_validate({1, 0, 2, 2, 8}), doctest::Contains("seq must be > 0"),
                       std::invalid_argument);
}
