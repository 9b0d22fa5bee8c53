// gemm, linear_forward and linear_backward on the GPU (cuBLASLt) against the CPU backend through the ops table,
// on fresh random data in f32, bf16 and f16: every transpose, alpha/beta, row strides wider than the matrix (a
// column block), mixed storage types (bf16 activations into an fp32 gradient, f32 operands into a bf16 output),
// the bias (cuBLASLt's epilogue, and laid down when its dtype differs), accumulate flags, an empty inner dimension.
// Shapes are not multiples of any tile or block size.
#include "dense_twins.hpp"

#include <cmath>
#include <limits>

using namespace cuda_ops_test;
using ops_test::FVec;

namespace {

const int32_t kDtypes[] = {MSW_DTYPE_F32, MSW_DTYPE_BF16, MSW_DTYPE_F16};

// Values in [-0.5, 0.5]: products of a few hundred terms stay near 1, where check_near's relative bound is
// tight (the two backends add in different orders, which moves an fp32 sum by a few ulps of its terms).
FVec rnd(int64_t n) { return ops_test::random_floats(n, -0.5f, 0.5f); }

void gemm_both(Twin& a, Twin& b, Twin& c, bool ta, bool tb, double alpha, double beta) {
  ops_table::ops().gemm(ta, tb, alpha, a.cpu, b.cpu, beta, c.cpu);
  gpu_ops().gemm(ta, tb, alpha, a.dev, b.dev, beta, c.dev);
}

}  // namespace

TEST_CASE("CUDA gemm equals the CPU backend for every transpose, alpha and beta, in f32, bf16 and f16") {
  REQUIRE_GPU_OR_SKIP();
  const int64_t m = 37, n = 53, k = 29;
  for (int32_t dt : kDtypes)
    for (bool ta : {false, true})
      for (bool tb : {false, true})
        for (double beta : {0.0, 0.5}) {
          CAPTURE(dtype_name(dt));
          CAPTURE(ta);
          CAPTURE(tb);
          CAPTURE(beta);
          Twin a(rnd(m * k), dt, {ta ? k : m, ta ? m : k});
          Twin b(rnd(k * n), dt, {tb ? n : k, tb ? k : n});
          Twin c(rnd(m * n), dt, {m, n});
          gemm_both(a, b, c, ta, tb, beta == 0.0 ? 0.0 : -0.75, beta);  // alpha 0 is read as 1
          check_twin("c", c, tolerance(dt));
        }
}

TEST_CASE("CUDA gemm on column blocks of wider matrices and on mixed dtypes equals the CPU backend") {
  REQUIRE_GPU_OR_SKIP();
  const int64_t m = 45, n = 70, k = 131;
  // (a, b, c): bf16/f16 into an f32 output run directly; the others are staged through f32.
  const int32_t combos[][3] = {{MSW_DTYPE_F32, MSW_DTYPE_F32, MSW_DTYPE_F32},  {MSW_DTYPE_BF16, MSW_DTYPE_BF16, MSW_DTYPE_F32},
                               {MSW_DTYPE_F16, MSW_DTYPE_F16, MSW_DTYPE_F32},  {MSW_DTYPE_F32, MSW_DTYPE_BF16, MSW_DTYPE_F32},
                               {MSW_DTYPE_F32, MSW_DTYPE_F32, MSW_DTYPE_BF16}, {MSW_DTYPE_BF16, MSW_DTYPE_F16, MSW_DTYPE_BF16},
                               {MSW_DTYPE_BF16, MSW_DTYPE_BF16, MSW_DTYPE_BF16}};
  for (const auto& cb : combos)
    for (bool ta : {false, true}) {
      CAPTURE(dtype_name(cb[0]));
      CAPTURE(dtype_name(cb[1]));
      CAPTURE(dtype_name(cb[2]));
      CAPTURE(ta);
      // a is columns [3, 3 + width) of a matrix 7 wider; c columns [2, 2 + n) of one 5 wider. The whole storage
      // is compared: nothing outside the blocks may change.
      const int64_t a_rows = ta ? k : m, a_cols = ta ? m : k;
      Twin a(rnd(a_rows * (a_cols + 7)), cb[0], {a_rows, a_cols + 7});
      a.narrow(1, 3, a_cols);
      Twin b(rnd(k * n), cb[1], {k, n});
      Twin c(rnd(m * (n + 5)), cb[2], {m, n + 5});
      c.narrow(1, 2, n);
      gemm_both(a, b, c, ta, false, 1.25, 1.0);
      check_twin("c", c, tolerance(cb[2]));  // both sides read the same rounded inputs
    }
}

TEST_CASE("CUDA gemm with an empty inner dimension scales c by beta (beta 0 clears NaN), as the CPU backend") {
  REQUIRE_GPU_OR_SKIP();
  const int64_t m = 9, n = 300;
  for (int32_t dt : kDtypes) {
    CAPTURE(dtype_name(dt));
    // (m, 0) and (0, n) operands over a one-element buffer (no zero-byte copies).
    Twin a(FVec{0.0f}, dt, {1}), b(FVec{0.0f}, dt, {1});
    for (Twin* t : {&a, &b}) {
      const bool is_a = t == &a;
      t->cpu = sdk::make_tensor(t->cpu.data, dt, {MSW_DEVICE_CPU, 0}, {is_a ? m : 0, is_a ? 0 : n});
      t->dev = sdk::make_tensor(t->dev.data, dt, {MSW_DEVICE_CUDA, 0}, {is_a ? m : 0, is_a ? 0 : n});
    }
    Twin c(rnd(m * n), dt, {m, n});
    gemm_both(a, b, c, false, false, 1.0, 0.5);
    check_twin("c = 0.5 c", c, tolerance(dt));
    Twin nan_c(FVec(m * n, std::numeric_limits<float>::quiet_NaN()), dt, {m, n});
    gemm_both(a, b, nan_c, false, false, 1.0, 0.0);
    check_near("c = 0", nan_c.gpu_values(), FVec(m * n, 0.0f), 0.0);
  }
}

TEST_CASE("CUDA linear_forward equals the CPU backend with and without bias, on 3-D inputs and strided rows") {
  REQUIRE_GPU_OR_SKIP();
  const int64_t s = 5, bsz = 7, in = 45, out = 67;
  for (int32_t dt : kDtypes)
    for (bool with_bias : {false, true}) {
      CAPTURE(dtype_name(dt));
      CAPTURE(with_bias);
      Twin x(rnd(s * bsz * in), dt, {s, bsz, in});
      Twin w(rnd(out * in), dt, {out, in});
      Twin bias(rnd(out), dt, {out});
      Twin y(rnd(s * bsz * out), dt, {s, bsz, out});
      ops_table::ops().linear_forward(x.cpu, w.cpu, with_bias ? &bias.cpu : nullptr, y.cpu);
      gpu_ops().linear_forward(x.dev, w.dev, with_bias ? &bias.dev : nullptr, y.dev);
      check_twin("y", y, tolerance(dt));
    }
  // Rows of x spaced wider than in_features (x a column block), larger products, and a bias whose dtype is not
  // the output's: (x/weight, bias, y).
  const int32_t combos[][3] = {{MSW_DTYPE_F32, MSW_DTYPE_F32, MSW_DTYPE_F32},   {MSW_DTYPE_BF16, MSW_DTYPE_BF16, MSW_DTYPE_BF16},
                               {MSW_DTYPE_BF16, MSW_DTYPE_F32, MSW_DTYPE_BF16}, {MSW_DTYPE_BF16, MSW_DTYPE_BF16, MSW_DTYPE_F32},
                               {MSW_DTYPE_F16, MSW_DTYPE_F16, MSW_DTYPE_F16},   {MSW_DTYPE_F32, MSW_DTYPE_BF16, MSW_DTYPE_F32}};
  const int64_t rows = 300, k = 257, n = 385;
  for (const auto& cb : combos) {
    CAPTURE(dtype_name(cb[0]));
    CAPTURE(dtype_name(cb[1]));
    CAPTURE(dtype_name(cb[2]));
    Twin x(rnd(rows * (k + 3)), cb[0], {rows, k + 3});
    x.narrow(1, 1, k);
    Twin w(rnd(n * k), cb[0], {n, k});
    Twin bias(rnd(n), cb[1], {n});
    Twin y(rnd(rows * n), cb[2], {rows, n});
    ops_table::ops().linear_forward(x.cpu, w.cpu, &bias.cpu, y.cpu);
    gpu_ops().linear_forward(x.dev, w.dev, &bias.dev, y.dev);
    check_twin("y", y, tolerance(cb[2]));
  }
}

TEST_CASE("CUDA linear_backward equals the CPU backend: dx written or accumulated, dweight and dbias accumulated") {
  REQUIRE_GPU_OR_SKIP();
  // 300 rows: two of the bias gradient's row blocks of 256.
  const int64_t s = 3, bsz = 100, in = 45, out = 67;
  // (x/weight/dy/dx, dweight/dbias): same dtype, and bf16 activations into fp32 main gradients.
  const int32_t combos[][2] = {{MSW_DTYPE_F32, MSW_DTYPE_F32},
                               {MSW_DTYPE_BF16, MSW_DTYPE_BF16},
                               {MSW_DTYPE_F16, MSW_DTYPE_F16},
                               {MSW_DTYPE_BF16, MSW_DTYPE_F32},
                               {MSW_DTYPE_F16, MSW_DTYPE_F32}};
  for (const auto& cb : combos)
    for (bool accumulate_dx : {false, true}) {
      CAPTURE(dtype_name(cb[0]));
      CAPTURE(dtype_name(cb[1]));
      CAPTURE(accumulate_dx);
      const int32_t dt = cb[0], gt = cb[1];
      Twin x(rnd(s * bsz * in), dt, {s, bsz, in});
      Twin w(rnd(out * in), dt, {out, in});
      Twin dy(rnd(s * bsz * out), dt, {s, bsz, out});
      Twin dx(rnd(s * bsz * in), dt, {s, bsz, in});
      Twin dw(rnd(out * in), gt, {out, in});
      Twin db(rnd(out), gt, {out});
      ops_table::ops().linear_backward(x.cpu, w.cpu, dy.cpu, &dx.cpu, &dw.cpu, &db.cpu, accumulate_dx);
      gpu_ops().linear_backward(x.dev, w.dev, dy.dev, &dx.dev, &dw.dev, &db.dev, accumulate_dx);
      check_twin("dx", dx, tolerance(dt));
      check_twin("dweight", dw, tolerance(gt));
      check_twin("dbias", db, tolerance(gt));
    }
  // Each gradient may be skipped; a frozen weight's call leaves dweight and dbias alone.
  Twin x(rnd(7 * 33), MSW_DTYPE_F32, {7, 33});
  Twin w(rnd(19 * 33), MSW_DTYPE_F32, {19, 33});
  Twin dy(rnd(7 * 19), MSW_DTYPE_F32, {7, 19});
  Twin dx(rnd(7 * 33), MSW_DTYPE_F32, {7, 33});
  Twin db(rnd(19), MSW_DTYPE_F32, {19});
  ops_table::ops().linear_backward(x.cpu, w.cpu, dy.cpu, &dx.cpu, nullptr, nullptr);
  gpu_ops().linear_backward(x.dev, w.dev, dy.dev, &dx.dev, nullptr, nullptr);
  check_twin("dx only", dx, 1e-5);
  ops_table::ops().linear_backward(x.cpu, w.cpu, dy.cpu, nullptr, nullptr, &db.cpu);
  gpu_ops().linear_backward(x.dev, w.dev, dy.dev, nullptr, nullptr, &db.dev);
  check_twin("dbias only", db, 1e-5);
}

TEST_CASE("CUDA linear refuses what the CPU backend refuses, naming the op") {
  REQUIRE_GPU_OR_SKIP();
  Twin x(rnd(4 * 8), MSW_DTYPE_F32, {4, 8});
  Twin w(rnd(5 * 9), MSW_DTYPE_F32, {5, 9});
  Twin y(rnd(4 * 5), MSW_DTYPE_F32, {4, 5});
  msw_linear_forward_args a = sdk::Ops::args<msw_linear_forward_args>();
  a.x = x.dev;
  a.weight = w.dev;
  a.y = y.dev;
  msw_status* st = gpu_ops().api().linear_forward(&gpu_ctx(), &a);
  REQUIRE(st != nullptr);
  const std::string message = megaswift::host::host_api().status_message(st);
  megaswift::host::host_api().status_free(st);
  CHECK(message.find("ops.linear_forward") != std::string::npos);
  CHECK(message.find("in_features") != std::string::npos);
}
