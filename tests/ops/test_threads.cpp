// Thread-count independence: every kernel gives bit-identical results with 1, 2 and 3 threads, on
// sizes large enough that the work really splits (OpenMP regions and OpenBLAS's own threads).
#include <doctest/doctest.h>

#include <cmath>
#include <cstring>
#include <functional>
#include <string>

#include <kernels/cpu/attention.hpp>
#include <kernels/cpu/cast.hpp>
#include <kernels/cpu/cross_entropy.hpp>
#include <kernels/cpu/embedding.hpp>
#include <kernels/cpu/gelu.hpp>
#include <kernels/cpu/layernorm.hpp>
#include <kernels/cpu/linear.hpp>
#include <kernels/cpu/reduce.hpp>
#include <kernels/cpu/rmsnorm.hpp>
#include <kernels/cpu/rope.hpp>
#include <kernels/cpu/swiglu.hpp>
#include <kernels/cpu/threading.hpp>

#include "test_support.hpp"

namespace cpu = megaswift::kernels::cpu;
using namespace ops_test;

namespace {

// Runs `op` (which fills the returned buffers from fixed inputs) under 1, 2 and 3 threads and
// requires identical bytes.
void same_for_any_thread_count(const std::string& what, const std::function<std::vector<FVec>()>& op) {
  INFO(what);
  const int saved = cpu::num_threads();
  cpu::set_num_threads(1);
  const auto one = op();
  for (int n : {2, 3}) {
    cpu::set_num_threads(n);
    CHECK(cpu::num_threads() == n);
    const auto many = op();
    REQUIRE(many.size() == one.size());
    for (size_t i = 0; i < one.size(); ++i) {
      REQUIRE(many[i].size() == one[i].size());
      CHECK_MESSAGE(std::memcmp(many[i].data(), one[i].data(), one[i].size() * sizeof(float)) == 0,
                    "output " << i << " differs with " << n << " threads");
    }
  }
  cpu::set_num_threads(saved);
}

}  // namespace

TEST_CASE("set_num_threads(0) picks every core and num_threads reports the setting") {
  const int saved = cpu::num_threads();
  cpu::set_num_threads(0);
  CHECK(cpu::num_threads() == cpu::available_cores());
  cpu::set_num_threads(2);
  CHECK(cpu::num_threads() == 2);
  cpu::set_num_threads(saved);
}

TEST_CASE("linear and embedding and norms give bit-identical results with 1 or 2 or 3 threads") {
  const int64_t m = 300, k = 200, n = 150, vocab = 50;
  const FVec x = random_floats(m * k), w = random_floats(n * k), b = random_floats(n), gy = random_floats(m * n);
  same_for_any_thread_count("linear", [&] {
    FVec y(m * n), dx(m * k), dw(n * k, 0.25f), db(n, 0.5f);
    cpu::linear_forward(x.data(), w.data(), b.data(), y.data(), m, k, n);
    cpu::linear_backward(x.data(), w.data(), gy.data(), m, k, n, dx.data(), dw.data(), db.data());
    return std::vector<FVec>{y, dx, dw, db};
  });
  // A long inner dimension for dW (K = rows): OpenBLAS must not split it across threads.
  const int64_t m2 = 1100, k2 = 64, n2 = 48;
  const FVec x2 = random_floats(m2 * k2), w2 = random_floats(n2 * k2), gy2 = random_floats(m2 * n2);
  same_for_any_thread_count("linear with a long reduction", [&] {
    FVec y(m2 * n2), dx(m2 * k2), dw(n2 * k2, 0.25f), db(n2, 0.5f);
    cpu::linear_forward(x2.data(), w2.data(), nullptr, y.data(), m2, k2, n2);
    cpu::linear_backward(x2.data(), w2.data(), gy2.data(), m2, k2, n2, dx.data(), dw.data(), db.data());
    return std::vector<FVec>{y, dx, dw, db};
  });
  std::vector<int64_t> ids(m);
  for (auto& id : ids) id = random_int(0, vocab - 1);
  const FVec table = random_floats(vocab * k), gx = random_floats(m * k);
  same_for_any_thread_count("embedding", [&] {
    FVec out(m * k), dtable(vocab * k, 1.0f);
    cpu::embedding_forward(ids.data(), m, table.data(), vocab, k, out.data());
    cpu::embedding_backward(ids.data(), m, gx.data(), vocab, k, dtable.data());
    return std::vector<FVec>{out, dtable};
  });
  const FVec nw = random_floats(k, 0.5f, 1.5f), nb = random_floats(k);
  same_for_any_thread_count("rmsnorm", [&] {
    FVec y(m * k), rstd(m), dx(m * k), dw(k, 0.1f);
    cpu::rmsnorm_forward(x.data(), nw.data(), y.data(), rstd.data(), m, k, 1e-6f);
    cpu::rmsnorm_backward(x.data(), nw.data(), rstd.data(), gx.data(), dx.data(), dw.data(), m, k);
    return std::vector<FVec>{y, rstd, dx, dw};
  });
  same_for_any_thread_count("rmsnorm with weight offset and accumulated dx", [&] {
    FVec y(m * k), rstd(m), dx(m * k, 0.5f), dw(k, 0.1f);
    cpu::rmsnorm_forward(x.data(), nw.data(), y.data(), rstd.data(), m, k, 1e-6f, 1.0f);
    cpu::rmsnorm_backward(x.data(), nw.data(), rstd.data(), gx.data(), dx.data(), dw.data(), m, k, 1.0f, true);
    return std::vector<FVec>{y, rstd, dx, dw};
  });
  same_for_any_thread_count("layernorm", [&] {
    FVec y(m * k), mean(m), rstd(m), dx(m * k), dw(k, 0.1f), db(k, 0.2f);
    cpu::layernorm_forward(x.data(), nw.data(), nb.data(), y.data(), mean.data(), rstd.data(), m, k, 1e-5f);
    cpu::layernorm_backward(x.data(), nw.data(), mean.data(), rstd.data(), gx.data(), dx.data(), dw.data(), db.data(),
                            m, k);
    return std::vector<FVec>{y, mean, rstd, dx, dw, db};
  });
  same_for_any_thread_count("sum_squares", [&] {
    return std::vector<FVec>{FVec{static_cast<float>(cpu::sum_squares(x.data(), m * k))}};
  });
}

TEST_CASE("attention (SBHD with a KV cache, window, softcap; THD) and rope give bit-identical results with 1 or 2 or 3 threads") {
  const int64_t B = 2, T = 150, Sq = 130, Hq = 4, Hkv = 2, D = 16;
  const FVec k = random_floats(T * B * Hkv * D), v = random_floats(T * B * Hkv * D);
  for (auto [window, softcap] : {std::pair{int64_t{0}, 0.0f}, std::pair{int64_t{40}, 3.0f}}) {
    cpu::AttentionProblem pr = cpu::attention_sbhd(B, Sq, T, Hq, Hkv, D);
    pr.params.scale = 0.25f;
    pr.params.window_left = window;
    pr.params.softcap = softcap;
    const FVec q = random_floats(Sq * B * Hq * D), g = random_floats(Sq * B * Hq * D);
    same_for_any_thread_count("SBHD attention", [&] {
      FVec out(q.size()), lse(Sq * B * Hq), dq(q.size()), dk(k.size()), dv(v.size());
      const auto n = static_cast<int64_t>(pr.seqs.size());
      cpu::attention_forward(pr.params, pr.seqs.data(), n, q.data(), k.data(), v.data(), out.data(), lse.data());
      cpu::attention_backward(pr.params, pr.seqs.data(), n, q.data(), k.data(), v.data(), out.data(), lse.data(),
                              g.data(), dq.data(), dk.data(), dv.data());
      return std::vector<FVec>{out, lse, dq, dk, dv};
    });
  }
  // THD over the same key buffer seen as T*B packed tokens: sequences of uneven lengths.
  const std::vector<int32_t> cu = {0, 70, 71, 200, 300};
  cpu::AttentionProblem thd = cpu::attention_thd(cu.data(), cu.data(), 4, Hq, Hkv, D);
  thd.params.scale = 0.25f;
  const FVec q = random_floats(T * B * Hq * D), g = random_floats(q.size());
  same_for_any_thread_count("THD attention", [&] {
    FVec out(q.size()), lse(T * B * Hq), dq(q.size()), dk(k.size()), dv(v.size());
    cpu::attention_forward(thd.params, thd.seqs.data(), 4, q.data(), k.data(), v.data(), out.data(), lse.data());
    cpu::attention_backward(thd.params, thd.seqs.data(), 4, q.data(), k.data(), v.data(), out.data(), lse.data(),
                            g.data(), dq.data(), dk.data(), dv.data());
    return std::vector<FVec>{out, lse, dq, dk, dv};
  });
  cpu::RopeConfig cfg;
  cfg.head_dim = D;
  cfg.scaling = cpu::RopeScaling::llama3;
  cfg.factor = 8.0;
  cfg.original_max_position_embeddings = 64;
  std::vector<int64_t> pos(T);
  for (int64_t t = 0; t < T; ++t) pos[t] = t;
  same_for_any_thread_count("rope", [&] {
    FVec cos(T * D / 2), sin(T * D / 2), y(q.size()), dx(q.size());
    cpu::rope_tables(cfg, pos.data(), T, cos.data(), sin.data());
    cpu::rope_forward(q.data(), y.data(), cos.data(), sin.data(), T * B, Hq, D, D, B);
    cpu::rope_backward(g.data(), dx.data(), cos.data(), sin.data(), T * B, Hq, D, D, B);
    return std::vector<FVec>{cos, sin, y, dx};
  });
}

TEST_CASE("activations and cross-entropy and casts give bit-identical results with 1 or 2 or 3 threads") {
  const int64_t rows = 256, f = 300, vocab = 1000;
  const FVec fc1 = random_floats(rows * 2 * f, -4.0f, 4.0f), g = random_floats(rows * f);
  same_for_any_thread_count("swiglu", [&] {
    FVec out(rows * f), dfc1(rows * 2 * f);
    cpu::swiglu_forward(fc1.data(), fc1.data() + f, 2 * f, out.data(), rows, f);
    cpu::swiglu_backward(fc1.data(), fc1.data() + f, 2 * f, g.data(), dfc1.data(), dfc1.data() + f, rows, f);
    return std::vector<FVec>{out, dfc1};
  });
  same_for_any_thread_count("gelu", [&] {
    FVec y(rows * f), dx(rows * f);
    cpu::gelu_forward(fc1.data(), y.data(), rows * f, cpu::GeluApproximation::tanh);
    cpu::gelu_backward(fc1.data(), g.data(), dx.data(), rows * f, cpu::GeluApproximation::none);
    return std::vector<FVec>{y, dx};
  });
  const FVec logits = random_floats(rows * vocab, -5.0f, 5.0f);
  std::vector<int64_t> labels(rows);
  for (auto& y : labels) y = random_int(-1, vocab - 1) < 0 ? cpu::kIgnoreIndex : random_int(0, vocab - 1);
  same_for_any_thread_count("cross_entropy", [&] {
    FVec lse(rows), d(rows * vocab);
    const auto r = cpu::cross_entropy_forward(logits.data(), labels.data(), rows, vocab, lse.data());
    cpu::cross_entropy_backward(logits.data(), labels.data(), lse.data(), rows, vocab,
                                cpu::cross_entropy_mean_scale(r.count), d.data());
    return std::vector<FVec>{FVec{static_cast<float>(r.loss)}, lse, d};
  });
  same_for_any_thread_count("casts", [&] {
    std::vector<uint16_t> h(logits.size()), b(logits.size());
    cpu::cast_f32_to_f16(logits.data(), h.data(), static_cast<int64_t>(h.size()));
    cpu::cast_f32_to_bf16(logits.data(), b.data(), static_cast<int64_t>(b.size()));
    FVec hf(h.size()), bf(b.size());
    cpu::cast_f16_to_f32(h.data(), hf.data(), static_cast<int64_t>(h.size()));
    cpu::cast_bf16_to_f32(b.data(), bf.data(), static_cast<int64_t>(b.size()));
    return std::vector<FVec>{hf, bf};
  });
}
