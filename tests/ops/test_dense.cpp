// Embedding, linear, RMSNorm, LayerNorm, residual, QKV split, sum of squares: forward against the
// float64 reference, backward against central differences of it.
#include <doctest/doctest.h>

#include <kernels/cpu/embedding.hpp>
#include <kernels/cpu/layernorm.hpp>
#include <kernels/cpu/linear.hpp>
#include <kernels/cpu/qkv_split.hpp>
#include <kernels/cpu/reduce.hpp>
#include <kernels/cpu/residual.hpp>
#include <kernels/cpu/rmsnorm.hpp>

#include "reference_dense.hpp"
#include "test_support.hpp"

namespace cpu = megaswift::kernels::cpu;
using namespace ops_test;

TEST_CASE("embedding forward gathers rows and backward scatter-adds repeated ids onto dtable") {
  for (auto [n, vocab, dim] : {std::tuple{1, 1, 1}, {7, 3, 17}, {17, 5, 3}, {3, 17, 7}}) {
    CAPTURE(n);
    CAPTURE(vocab);
    CAPTURE(dim);
    std::vector<int64_t> ids(n);
    for (auto& id : ids) id = random_int(0, vocab - 1);  // repeats are likely with small vocabularies
    FVec table = random_floats(vocab * dim);
    FVec out(n * dim);
    cpu::embedding_forward(ids.data(), n, table.data(), vocab, dim, out.data());
    check_close("embedding forward", out, ops_ref::embedding(ids, to_double(table), dim), 1e-12, 1e-12);

    FVec g = random_floats(n * dim);
    FVec start = prefill(vocab * dim);
    FVec dtable = start;
    cpu::embedding_backward(ids.data(), n, g.data(), vocab, dim, dtable.data());
    Vec t = to_double(table);
    const Vec gd = to_double(g);
    check_gradient("table", t, minus(dtable, start), [&] { return dot(gd, ops_ref::embedding(ids, t, dim)); });
  }
}

TEST_CASE("embedding of a vocab shard gives zero rows for ids outside it and skips them backward") {
  const int64_t vocab = 5, dim = 3, start = 10;
  const std::vector<int64_t> ids = {9, 10, 14, 15, 12, 10, 0};
  const int64_t n = static_cast<int64_t>(ids.size());
  FVec table = random_floats(vocab * dim), out(n * dim, 7.0f);
  cpu::embedding_forward(ids.data(), n, table.data(), vocab, dim, out.data(), start, true);
  check_close("shard forward", out, ops_ref::embedding(ids, to_double(table), dim, start), 1e-12, 1e-12);
  FVec g = random_floats(n * dim), dtable0 = prefill(vocab * dim), dtable = dtable0;
  cpu::embedding_backward(ids.data(), n, g.data(), vocab, dim, dtable.data(), start, true);
  Vec want = to_double(dtable0);
  for (int64_t i = 0; i < n; ++i) {
    if (ids[i] < start || ids[i] >= start + vocab) continue;
    for (int64_t j = 0; j < dim; ++j) want[(ids[i] - start) * dim + j] += g[i * dim + j];
  }
  check_close("shard backward", dtable, want, 1e-7, 1e-7);
  // Without the shard flag an id outside the table is an error naming the shard's range.
  CHECK_THROWS_WITH_AS(cpu::embedding_forward(ids.data(), n, table.data(), vocab, dim, out.data(), start, false),
                       doctest::Contains("token id 9 at position 0 is outside the vocabulary [10, 15)"),
                       std::invalid_argument);
}

TEST_CASE("embedding rejects a token id outside the vocabulary and names it") {
  std::vector<int64_t> ids{0, 5};
  FVec table(4 * 2), out(2 * 2);
  CHECK_THROWS_WITH_AS(cpu::embedding_forward(ids.data(), 2, table.data(), 4, 2, out.data()),
                       doctest::Contains("token id 5 at position 1"), std::invalid_argument);
}

TEST_CASE("linear forward is x W^T + b and backward writes dx and accumulates dW and db") {
  for (auto [m, k, n] : {std::tuple{1, 1, 1}, {3, 7, 17}, {17, 3, 7}, {7, 17, 1}, {5, 1, 3}}) {
    CAPTURE(m);
    CAPTURE(k);
    CAPTURE(n);
    FVec x = random_floats(m * k), w = random_floats(n * k), b = random_floats(n);
    FVec y(m * n);
    cpu::linear_forward(x.data(), w.data(), b.data(), y.data(), m, k, n);
    check_close("linear forward", y, ops_ref::linear(to_double(x), to_double(w), to_double(b), m, k, n));
    FVec y_nobias(m * n);
    cpu::linear_forward(x.data(), w.data(), nullptr, y_nobias.data(), m, k, n);
    check_close("linear forward without bias", y_nobias, ops_ref::linear(to_double(x), to_double(w), {}, m, k, n));

    FVec g = random_floats(m * n);
    FVec dx(m * k, 123.0f);  // overwritten
    FVec dw0 = prefill(n * k), db0 = prefill(n);
    FVec dw = dw0, db = db0;
    cpu::linear_backward(x.data(), w.data(), g.data(), m, k, n, dx.data(), dw.data(), db.data());
    Vec xd = to_double(x), wd = to_double(w), bd = to_double(b);
    const Vec gd = to_double(g);
    auto loss = [&] { return dot(gd, ops_ref::linear(xd, wd, bd, m, k, n)); };
    check_gradient("x", xd, dx, loss);
    check_gradient("weight", wd, minus(dw, dw0), loss);
    check_gradient("bias", bd, minus(db, db0), loss);

    // accumulate_dx adds into dx instead of overwriting it.
    FVec dx_acc = prefill(m * k);
    const FVec dx_start = dx_acc;
    cpu::linear_backward(x.data(), w.data(), g.data(), m, k, n, dx_acc.data(), nullptr, nullptr, true);
    check_close("accumulated dx", minus(dx_acc, dx_start), to_double(dx), 1e-6, 1e-6);
  }
}

TEST_CASE("rmsnorm forward matches the reference and saves rstd and backward writes dx and accumulates dweight") {
  for (auto [rows, dim] : {std::pair{1, 1}, {3, 7}, {17, 3}, {7, 17}, {300, 5}}) {
    CAPTURE(rows);
    CAPTURE(dim);
    const float eps = 1e-6f;
    FVec x = random_floats(rows * dim, -2.0f, 2.0f), w = random_floats(dim, 0.5f, 1.5f);
    FVec y(rows * dim), rstd(rows);
    cpu::rmsnorm_forward(x.data(), w.data(), y.data(), rstd.data(), rows, dim, eps);
    Vec want_rstd;
    check_close("rmsnorm forward", y, ops_ref::rmsnorm(to_double(x), to_double(w), rows, dim, eps, &want_rstd));
    check_close("rmsnorm rstd", rstd, want_rstd);

    FVec g = random_floats(rows * dim);
    FVec dx(rows * dim), dw0 = prefill(dim), dw = dw0;
    cpu::rmsnorm_backward(x.data(), w.data(), rstd.data(), g.data(), dx.data(), dw.data(), rows, dim);
    Vec xd = to_double(x), wd = to_double(w);
    const Vec gd = to_double(g);
    auto loss = [&] { return dot(gd, ops_ref::rmsnorm(xd, wd, rows, dim, eps)); };
    // With one channel the input gradient cancels to ~eps: measure it against the size of its terms.
    double max_rstd = 0.0;
    for (float r : rstd) max_rstd = std::max(max_rstd, static_cast<double>(r));
    check_gradient("x", xd, dx, loss, 400, 1e-4, 1e-3, max_abs(gd) * 1.5 * max_rstd);
    check_gradient("weight", wd, minus(dw, dw0), loss);

    // In place: y over x, dx over dy.
    FVec xi = x, ri(rows);
    cpu::rmsnorm_forward(xi.data(), w.data(), xi.data(), ri.data(), rows, dim, eps);
    CHECK(xi == y);
    FVec gi = g, dwi = dw0;
    cpu::rmsnorm_backward(x.data(), w.data(), rstd.data(), gi.data(), gi.data(), dwi.data(), rows, dim);
    CHECK(gi == dx);
    CHECK(dwi == dw);
  }
}

TEST_CASE("rmsnorm with a weight offset uses (offset + w) forward and backward and can accumulate dx") {
  for (auto [rows, dim] : {std::pair{3, 7}, {300, 5}}) {
    CAPTURE(rows);
    CAPTURE(dim);
    const float eps = 1e-6f, offset = 1.0f;
    // Gemma's zero-centred weights: small values around 0, so (1 + w) and w differ a lot.
    FVec x = random_floats(rows * dim, -2.0f, 2.0f), w = random_floats(dim, -0.3f, 0.3f);
    FVec y(rows * dim), rstd(rows);
    cpu::rmsnorm_forward(x.data(), w.data(), y.data(), rstd.data(), rows, dim, eps, offset);
    Vec want_rstd;
    check_close("forward", y, ops_ref::rmsnorm(to_double(x), to_double(w), rows, dim, eps, &want_rstd, offset));
    check_close("rstd", rstd, want_rstd);

    FVec g = random_floats(rows * dim);
    FVec dx0 = prefill(rows * dim), dx = dx0, dw0 = prefill(dim), dw = dw0;
    cpu::rmsnorm_backward(x.data(), w.data(), rstd.data(), g.data(), dx.data(), dw.data(), rows, dim, offset, true);
    Vec xd = to_double(x), wd = to_double(w);
    const Vec gd = to_double(g);
    auto loss = [&] { return dot(gd, ops_ref::rmsnorm(xd, wd, rows, dim, eps, nullptr, offset)); };
    check_gradient("x (accumulated)", xd, minus(dx, dx0), loss, 400, 1e-4, 1e-3);
    check_gradient("weight", wd, minus(dw, dw0), loss);
  }
}

TEST_CASE("layernorm forward matches the reference and backward writes dx and accumulates dweight and dbias") {
  for (auto [rows, dim] : {std::pair{1, 2}, {3, 7}, {17, 3}, {7, 17}, {300, 5}}) {
    CAPTURE(rows);
    CAPTURE(dim);
    const float eps = 1e-5f;
    FVec x = random_floats(rows * dim, -2.0f, 2.0f), w = random_floats(dim, 0.5f, 1.5f), b = random_floats(dim);
    FVec y(rows * dim), mean(rows), rstd(rows);
    cpu::layernorm_forward(x.data(), w.data(), b.data(), y.data(), mean.data(), rstd.data(), rows, dim, eps);
    Vec want_mean, want_rstd;
    check_close("layernorm forward", y,
                ops_ref::layernorm(to_double(x), to_double(w), to_double(b), rows, dim, eps, &want_mean, &want_rstd),
                1e-5, 1e-5);
    check_close("layernorm mean", mean, want_mean, 1e-5, 1e-5);
    check_close("layernorm rstd", rstd, want_rstd);

    FVec g = random_floats(rows * dim);
    FVec dx(rows * dim), dw0 = prefill(dim), db0 = prefill(dim), dw = dw0, db = db0;
    cpu::layernorm_backward(x.data(), w.data(), mean.data(), rstd.data(), g.data(), dx.data(), dw.data(), db.data(),
                            rows, dim);
    Vec xd = to_double(x), wd = to_double(w), bd = to_double(b);
    const Vec gd = to_double(g);
    auto loss = [&] { return dot(gd, ops_ref::layernorm(xd, wd, bd, rows, dim, eps)); };
    // With two channels the normalized output hardly depends on x: measure against the size of the terms.
    double max_rstd = 0.0;
    for (float r : rstd) max_rstd = std::max(max_rstd, static_cast<double>(r));
    check_gradient("x", xd, dx, loss, 400, 1e-4, 1e-3, max_abs(gd) * 1.5 * max_rstd);
    check_gradient("weight", wd, minus(dw, dw0), loss);
    check_gradient("bias", bd, minus(db, db0), loss);
  }
}

TEST_CASE("qkv split follows Megatron's per-group layout and its backward is the exact inverse") {
  for (auto [rows, hq, hkv, d] : {std::tuple{1, 1, 1, 1}, {3, 4, 2, 3}, {7, 6, 3, 5}, {2, 8, 1, 2}}) {
    CAPTURE(rows);
    CAPTURE(hq);
    CAPTURE(hkv);
    const int64_t width = (hq + 2 * hkv) * d;
    FVec qkv = random_floats(rows * width);
    FVec q(rows * hq * d), k(rows * hkv * d), v(rows * hkv * d);
    cpu::qkv_split_forward(qkv.data(), q.data(), k.data(), v.data(), rows, hq, hkv, d);
    ops_ref::Vec rq, rk, rv;
    ops_ref::qkv_split(to_double(qkv), rows, hq, hkv, d, rq, rk, rv);
    CHECK(to_double(q) == rq);
    CHECK(to_double(k) == rk);
    CHECK(to_double(v) == rv);
    FVec back(rows * width, 7.0f);
    cpu::qkv_split_backward(q.data(), k.data(), v.data(), back.data(), rows, hq, hkv, d);
    CHECK(back == qkv);
  }
}

TEST_CASE("residual add and accumulate and scale are element-wise and allow out == a") {
  FVec a = random_floats(17), b = random_floats(17), out(17);
  cpu::residual_add(a.data(), b.data(), out.data(), 17);
  for (int i = 0; i < 17; ++i) CHECK(out[i] == a[i] + b[i]);
  FVec acc = a;
  cpu::accumulate(acc.data(), b.data(), 17);
  CHECK(acc == out);
  cpu::residual_add(a.data(), b.data(), a.data(), 17);
  CHECK(a == out);
  cpu::scale(a.data(), 17, 0.5f);
  for (int i = 0; i < 17; ++i) CHECK(a[i] == out[i] * 0.5f);
  FVec scaled(17);
  cpu::residual_add(out.data(), b.data(), scaled.data(), 17, -0.25f);
  for (int i = 0; i < 17; ++i) CHECK(scaled[i] == out[i] + -0.25f * b[i]);
}

TEST_CASE("sum of squares is accurate in double and propagates non-finite values") {
  FVec x = random_floats(10007);
  double want = 0.0;
  for (float v : x) want += static_cast<double>(v) * v;
  CHECK(cpu::sum_squares(x.data(), 10007) == doctest::Approx(want).epsilon(1e-13));
  CHECK(cpu::sum_squares(x.data(), 0) == 0.0);
  x[5000] = std::numeric_limits<float>::infinity();
  CHECK(std::isinf(cpu::sum_squares(x.data(), 10007)));
  x[5000] = std::numeric_limits<float>::quiet_NaN();
  CHECK(std::isnan(cpu::sum_squares(x.data(), 10007)));
}

TEST_CASE("gemm over output tiles matches the float64 product for every transpose combination and leading dimension") {
  // 301 x 173 x 41 is above the single-call size, so the product is cut into tiles with ragged edges.
  for (auto [m, n, k] : {std::tuple{301, 173, 41}, {3, 7, 17}}) {
    for (bool ta : {false, true}) {
      for (bool tb : {false, true}) {
        CAPTURE(m);
        CAPTURE(ta);
        CAPTURE(tb);
        const int64_t lda = (ta ? m : k) + 3, ldb = (tb ? k : n) + 5, ldc = n + 2;
        const FVec a = random_floats((ta ? k : m) * lda), b = random_floats((tb ? n : k) * ldb);
        FVec c = random_floats(m * ldc);
        const FVec c0 = c;
        cpu::gemm(ta, tb, m, n, k, 0.5f, a.data(), lda, b.data(), ldb, 2.0f, c.data(), ldc);
        FVec got;
        Vec want;
        for (int64_t i = 0; i < m; ++i) {
          for (int64_t j = 0; j < n; ++j) {
            double s = 0.0;
            for (int64_t p = 0; p < k; ++p) {
              const double av = ta ? a[p * lda + i] : a[i * lda + p];
              const double bv = tb ? b[j * ldb + p] : b[p * ldb + j];
              s += av * bv;
            }
            want.push_back(0.5 * s + 2.0 * c0[i * ldc + j]);
            got.push_back(c[i * ldc + j]);
          }
          for (int64_t j = n; j < ldc; ++j) CHECK(c[i * ldc + j] == c0[i * ldc + j]);  // padding untouched
        }
        check_close("gemm", got, want, 1e-6, 1e-5);
      }
    }
  }
}
