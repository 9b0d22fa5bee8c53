// Causal GQA attention over sequences: SBHD forward (out, lse) against the float64 reference and dq, dk, dv
// against central differences of it, with bottom-right causal alignment (fewer queries than keys), sliding
// windows and soft-capping, over shapes that cross the kernel's 64-query blocks; THD against each sequence
// run on its own; fewer queries against the last rows of the full attention.
#include <doctest/doctest.h>

#include <cmath>
#include <tuple>

#include <kernels/cpu/attention.hpp>

#include "reference_attention.hpp"
#include "test_support.hpp"

namespace cpu = megaswift::kernels::cpu;
using namespace ops_test;

namespace {

struct Case {
  int64_t B, Sq, Skv, Hq, Hkv, D;
  int64_t window = 0;
  float softcap = 0.0f;
};

struct Grads {
  FVec dq, dk, dv;
};

// Forward and backward of one problem on the kernel.
void run(const cpu::AttentionProblem& pr, const FVec& q, const FVec& k, const FVec& v, const FVec& g, FVec& out,
         FVec& lse, Grads& grads) {
  const auto n = static_cast<int64_t>(pr.seqs.size());
  cpu::attention_forward(pr.params, pr.seqs.data(), n, q.data(), k.data(), v.data(), out.data(), lse.data());
  cpu::attention_backward(pr.params, pr.seqs.data(), n, q.data(), k.data(), v.data(), out.data(), lse.data(), g.data(),
                          grads.dq.data(), grads.dk.data(), grads.dv.data());
}

}  // namespace

TEST_CASE("SBHD attention (GQA, bottom-right causal, window, softcap) matches the float64 reference and its finite differences") {
  for (const Case& c : {Case{1, 1, 1, 1, 1, 1}, Case{2, 3, 3, 2, 1, 7}, Case{1, 17, 17, 6, 3, 5}, Case{2, 7, 7, 4, 4, 3},
                        Case{1, 70, 70, 2, 1, 4}, Case{1, 130, 130, 1, 1, 3},
                        // fewer queries than keys: decode steps and chunked prefill, across key blocks
                        Case{2, 5, 12, 4, 2, 3}, Case{1, 1, 70, 2, 2, 4}, Case{1, 66, 140, 2, 1, 3},
                        // sliding window, alone and with fewer queries
                        Case{1, 70, 70, 2, 1, 4, 5}, Case{2, 9, 20, 2, 2, 3, 3}, Case{1, 3, 3, 1, 1, 2, 1},
                        // soft-capping, alone and with everything else
                        Case{1, 20, 20, 2, 1, 4, 0, 1.5f}, Case{2, 70, 75, 4, 2, 3, 9, 0.8f}}) {
    CAPTURE(c.B);
    CAPTURE(c.Sq);
    CAPTURE(c.Skv);
    CAPTURE(c.Hq);
    CAPTURE(c.Hkv);
    CAPTURE(c.D);
    CAPTURE(c.window);
    CAPTURE(c.softcap);
    cpu::AttentionProblem pr = cpu::attention_sbhd(c.B, c.Sq, c.Skv, c.Hq, c.Hkv, c.D);
    pr.params.scale = 1.0f / std::sqrt(static_cast<float>(c.D));
    pr.params.window_left = c.window;
    pr.params.softcap = c.softcap;
    const ops_ref::AttentionOptions opt{pr.params.scale, c.window, c.softcap};
    const FVec q = random_floats(c.Sq * c.B * c.Hq * c.D, -2.0f, 2.0f),
               k = random_floats(c.Skv * c.B * c.Hkv * c.D, -2.0f, 2.0f), v = random_floats(c.Skv * c.B * c.Hkv * c.D),
               g = random_floats(q.size());
    FVec out(q.size(), 7.0f), lse(c.Sq * c.B * c.Hq, 7.0f);
    Grads grads{FVec(q.size(), 9.0f), FVec(k.size(), 9.0f), FVec(v.size(), 9.0f)};
    run(pr, q, k, v, g, out, lse, grads);

    Vec want_lse;
    const Vec want = ops_ref::attention_sbhd(to_double(q), to_double(k), to_double(v), c.B, c.Sq, c.Skv, c.Hq, c.Hkv,
                                             c.D, opt, &want_lse);
    check_close("attention out", out, want, 5e-6, 5e-6);
    check_close("attention lse", lse, want_lse, 5e-6, 5e-6);

    const Vec gd = to_double(g);
    Vec qd = to_double(q), kd = to_double(k), vd = to_double(v);
    auto loss = [&] { return dot(gd, ops_ref::attention_sbhd(qd, kd, vd, c.B, c.Sq, c.Skv, c.Hq, c.Hkv, c.D, opt)); };
    check_gradient("q", qd, grads.dq, loss, 200);
    check_gradient("k", kd, grads.dk, loss, 200);
    check_gradient("v", vd, grads.dv, loss, 200);
  }
}

TEST_CASE("THD attention over packed sequences equals running each sequence on its own") {
  const int64_t Hq = 4, Hkv = 2, D = 3;
  // Self-attention (kv offsets = q offsets) and a KV cache longer than the queries of each sequence; both
  // with an empty sequence and one longer than a 64-query block. Rows past the last offset belong to none.
  const std::vector<int32_t> cu_q = {0, 5, 5, 72, 80};
  for (const std::vector<int32_t>& cu_kv : {cu_q, std::vector<int32_t>{0, 9, 12, 80, 95}}) {
    for (auto [window, softcap] : {std::pair{int64_t{0}, 0.0f}, std::pair{int64_t{6}, 2.0f}}) {
      CAPTURE(cu_kv.back());
      CAPTURE(window);
      const int64_t Tq = cu_q.back() + 3, Tkv = cu_kv.back() + 2, n = static_cast<int64_t>(cu_q.size()) - 1;
      cpu::AttentionProblem pr = cpu::attention_thd(cu_q.data(), cu_kv.data(), n, Hq, Hkv, D);
      pr.params.scale = 0.6f;
      pr.params.window_left = window;
      pr.params.softcap = softcap;
      const FVec q = random_floats(Tq * Hq * D, -2.0f, 2.0f), k = random_floats(Tkv * Hkv * D, -2.0f, 2.0f),
                 v = random_floats(Tkv * Hkv * D), g = random_floats(q.size());
      // Untouched rows keep their sentinel: the kernel writes only the tokens of its sequences.
      FVec out(q.size(), 7.0f), lse(Tq * Hq, 7.0f);
      Grads grads{FVec(q.size(), 9.0f), FVec(k.size(), 9.0f), FVec(v.size(), 9.0f)};
      run(pr, q, k, v, g, out, lse, grads);
      for (int64_t i = cu_q.back() * Hq * D; i < Tq * Hq * D; ++i) REQUIRE(out[i] == 7.0f);
      for (int64_t i = cu_kv.back() * Hkv * D; i < Tkv * Hkv * D; ++i) REQUIRE(grads.dk[i] == 9.0f);

      for (int64_t s = 0; s < n; ++s) {
        CAPTURE(s);
        const int64_t q0 = cu_q[s], lq = cu_q[s + 1] - q0, k0 = cu_kv[s], lk = cu_kv[s + 1] - k0;
        cpu::AttentionProblem one = cpu::attention_sbhd(1, lq, lk, Hq, Hkv, D);
        one.params.scale = pr.params.scale;
        one.params.window_left = window;
        one.params.softcap = softcap;
        auto slice = [](const FVec& x, int64_t first, int64_t count, int64_t row) {
          return FVec(x.begin() + first * row, x.begin() + (first + count) * row);
        };
        const FVec qs = slice(q, q0, lq, Hq * D), ks = slice(k, k0, lk, Hkv * D), vs = slice(v, k0, lk, Hkv * D),
                   gs = slice(g, q0, lq, Hq * D);
        FVec os(qs.size()), ls(lq * Hq);
        Grads gr{FVec(qs.size()), FVec(ks.size(), 5.0f), FVec(vs.size(), 5.0f)};
        run(one, qs, ks, vs, gs, os, ls, gr);
        CHECK(slice(out, q0, lq, Hq * D) == os);
        CHECK(slice(lse, q0, lq, Hq) == ls);
        CHECK(slice(grads.dq, q0, lq, Hq * D) == gr.dq);
        CHECK(slice(grads.dk, k0, lk, Hkv * D) == gr.dk);
        CHECK(slice(grads.dv, k0, lk, Hkv * D) == gr.dv);
        if (lq == 0) CHECK(gr.dk == FVec(gr.dk.size(), 0.0f));  // keys nobody attends to get zero gradients
      }
    }
  }
}

TEST_CASE("attention with fewer queries than keys equals the last rows of the full attention") {
  const int64_t B = 2, S = 100, Sq = 37, Hq = 4, Hkv = 1, D = 5;
  for (int64_t window : {int64_t{0}, int64_t{20}}) {
    CAPTURE(window);
    cpu::AttentionProblem full = cpu::attention_sbhd(B, S, S, Hq, Hkv, D);
    cpu::AttentionProblem last = cpu::attention_sbhd(B, Sq, S, Hq, Hkv, D);
    full.params.scale = last.params.scale = 0.4f;
    full.params.window_left = last.params.window_left = window;
    const FVec q = random_floats(S * B * Hq * D, -2.0f, 2.0f), k = random_floats(S * B * Hkv * D, -2.0f, 2.0f),
               v = random_floats(k.size()), g_last = random_floats(Sq * B * Hq * D);
    const int64_t row = B * Hq * D, first = (S - Sq) * row;  // SBHD: the last Sq positions are the tail
    // The full problem's upstream gradient is zero on the first rows, so its dk, dv are those of the tail.
    FVec g(q.size(), 0.0f);
    std::copy(g_last.begin(), g_last.end(), g.begin() + first);
    FVec out(q.size()), lse(S * B * Hq);
    Grads gf{FVec(q.size()), FVec(k.size()), FVec(v.size())};
    run(full, q, k, v, g, out, lse, gf);

    const FVec q_last(q.begin() + first, q.end());
    FVec out_last(q_last.size()), lse_last(Sq * B * Hq);
    Grads gl{FVec(q_last.size()), FVec(k.size()), FVec(v.size())};
    run(last, q_last, k, v, g_last, out_last, lse_last, gl);

    auto tail = [](const FVec& x, int64_t from) { return Vec(x.begin() + from, x.end()); };
    check_close("out", out_last, tail(out, first), 1e-6, 1e-6);
    check_close("lse", lse_last, tail(lse, (S - Sq) * B * Hq), 1e-6, 1e-6);
    check_close("dq", gl.dq, tail(gf.dq, first), 1e-5, 1e-5);
    check_close("dk", gl.dk, to_double(gf.dk), 1e-5, 1e-5);
    check_close("dv", gl.dv, to_double(gf.dv), 1e-5, 1e-5);
  }
}

TEST_CASE("attention rejects bad heads, more queries than keys and negative windows, naming them") {
  cpu::AttentionProblem pr = cpu::attention_sbhd(1, 4, 4, 6, 4, 8);
  CHECK_THROWS_WITH_AS(cpu::attention_validate(pr.params, pr.seqs.data(), 1),
                       doctest::Contains("q_heads 6 is not a multiple"), std::invalid_argument);
  pr = cpu::attention_sbhd(1, 5, 4, 2, 2, 8);
  CHECK_THROWS_WITH_AS(cpu::attention_validate(pr.params, pr.seqs.data(), 1),
                       doctest::Contains("sequence 0 has 5 queries but only 4 keys"), std::invalid_argument);
  pr = cpu::attention_sbhd(1, 4, 4, 2, 2, 8);
  pr.params.window_left = -1;
  CHECK_THROWS_WITH_AS(cpu::attention_validate(pr.params, pr.seqs.data(), 1), doctest::Contains("window_left must be >= 0"),
                       std::invalid_argument);
  pr = cpu::attention_sbhd(1, 4, 4, 2, 2, 0);
  CHECK_THROWS_WITH_AS(cpu::attention_validate(pr.params, pr.seqs.data(), 1), doctest::Contains("head_dim must be > 0"),
                       std::invalid_argument);
}
