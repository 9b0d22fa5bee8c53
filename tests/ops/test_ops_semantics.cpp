// The ops whose ABI 2 semantics live in the op layer, through the table: rmsnorm's fused residual add and
// weight offset, add with alpha, scale by a device scalar, sum of squares into a device scalar, the
// vocab-parallel embedding, cross-entropy adding to device scalars and scaled by one, and the refusals
// (fp8, vocab-parallel cross-entropy without a parallel backend).
#include <doctest/doctest.h>

#include <cmath>
#include <cstring>

#include "kernels/cpu/cast.hpp"

#include "ops_table_support.hpp"
#include "reference_dense.hpp"
#include "test_support.hpp"

using namespace ops_test;
using namespace ops_table;
namespace cpu = megaswift::kernels::cpu;

namespace {

void require_error(const std::function<void()>& f, msw_status_code code, const std::string& text) {
  try {
    f();
    FAIL("no error; expected: " << text);
  } catch (const sdk::Error& e) {
    CHECK(e.code() == code);
    CHECK_MESSAGE(std::string(e.what()).find(text) != std::string::npos, e.what());
  }
}

}  // namespace

TEST_CASE("rmsnorm with a fused residual writes x + residual rounded to x_out's dtype and normalises that") {
  const int64_t rows = 5, dim = 12;
  FVec x = random_floats(rows * dim, -2.0f, 2.0f), r = random_floats(rows * dim, -2.0f, 2.0f),
       w = random_floats(dim, -0.2f, 0.2f), y(rows * dim), rstd(rows);
  std::vector<uint16_t> sum_bf16(rows * dim);
  msw_rmsnorm_forward_args a = sdk::Ops::args<msw_rmsnorm_forward_args>();
  a.x = f32(x, {rows, dim});
  a.residual = f32(r, {rows, dim});
  a.x_out = sdk::make_tensor(sum_bf16.data(), MSW_DTYPE_BF16, {MSW_DEVICE_CPU, 0}, {rows, dim});
  a.weight = f32(w, {dim});
  a.y = f32(y, {rows, dim});
  a.rstd = f32(rstd, {rows});
  a.eps = 1e-6;
  a.weight_offset = 1.0;
  const msw_exec_ctx& ctx = cpu_ctx();
  sdk::check(megaswift::host::ops_api().rmsnorm_forward(&ctx, &a));
  // x_out holds the bf16-rounded sum, and the norm is of exactly those values (what backward will see).
  Vec rounded(rows * dim);
  for (int64_t i = 0; i < rows * dim; ++i) {
    CHECK(sum_bf16[i] == cpu::float_to_bf16(x[i] + r[i]));
    rounded[i] = cpu::bf16_to_float(sum_bf16[i]);
  }
  Vec want_rstd;
  check_close("y", y, ops_ref::rmsnorm(rounded, to_double(w), rows, dim, 1e-6, &want_rstd, 1.0));
  check_close("rstd", rstd, want_rstd);

  a.x_out = {};
  require_error([&] { sdk::check(megaswift::host::ops_api().rmsnorm_forward(&ctx, &a)); },
                MSW_STATUS_INVALID_ARGUMENT, "residual is given but x_out is missing");
}

TEST_CASE("rmsnorm backward through the table adds into dx with accumulate_dx and leaves dweight's offset out") {
  const int64_t rows = 4, dim = 6;
  FVec x = random_floats(rows * dim), w = random_floats(dim), y(rows * dim), rstd(rows), g = random_floats(rows * dim);
  auto ops = ops_table::ops();
  ops.rmsnorm_forward(f32(x, {rows, dim}), f32(w, {dim}), 1e-6, f32(y, {rows, dim}), f32(rstd, {rows}), 1.0);
  FVec dx_written(rows * dim, 5.0f), dw_a(dim, 0.0f), dx_acc = prefill(rows * dim), dw_b(dim, 0.0f);
  const FVec dx_start = dx_acc;
  const msw_tensor tdx = f32(dx_written, {rows, dim}), tdw = f32(dw_a, {dim}), tacc = f32(dx_acc, {rows, dim}),
                   tdw2 = f32(dw_b, {dim});
  ops.rmsnorm_backward(f32(x, {rows, dim}), f32(w, {dim}), f32(rstd, {rows}), f32(g, {rows, dim}), &tdx, &tdw, 1.0);
  ops.rmsnorm_backward(f32(x, {rows, dim}), f32(w, {dim}), f32(rstd, {rows}), f32(g, {rows, dim}), &tacc, &tdw2, 1.0, true);
  check_close("accumulated dx", minus(dx_acc, dx_start), to_double(dx_written), 1e-6, 1e-6);
  CHECK(dw_a == dw_b);
  // dweight = sum dy * xhat, whatever the offset.
  FVec dw_plain(dim, 0.0f);
  const msw_tensor tdw3 = f32(dw_plain, {dim});
  ops.rmsnorm_backward(f32(x, {rows, dim}), f32(w, {dim}), f32(rstd, {rows}), f32(g, {rows, dim}), nullptr, &tdw3, 0.0);
  CHECK(dw_plain == dw_a);
}

TEST_CASE("add with alpha, and scale by a device scalar") {
  FVec a = random_floats(9), b = random_floats(9), out(9);
  auto ops = ops_table::ops();
  ops.add(f32(a, {3, 3}), f32(b, {3, 3}), f32(out, {9}), -2.0);
  for (int i = 0; i < 9; ++i) CHECK(out[i] == a[i] + -2.0f * b[i]);
  // alpha 0 is read as 1: the plain residual add of a zeroed struct.
  msw_add_args z = sdk::Ops::args<msw_add_args>();
  z.a = f32(a, {9});
  z.b = f32(b, {9});
  z.out = f32(out, {9});
  const msw_exec_ctx& ctx = cpu_ctx();
  sdk::check(megaswift::host::ops_api().add(&ctx, &z));
  for (int i = 0; i < 9; ++i) CHECK(out[i] == a[i] + b[i]);

  std::vector<double> s = {0.125};
  FVec x = a;
  ops.scale_by(f32(x, {9}), f64(s, {}));
  for (int i = 0; i < 9; ++i) CHECK(x[i] == a[i] * 0.125f);
  FVec two = {1.0f, 2.0f};
  require_error([&] { ops.scale_by(f32(x, {9}), f32(two, {2})); }, MSW_STATUS_SHAPE_MISMATCH,
                "scale_tensor is f32 (2), expected one element");
}

TEST_CASE("sum of squares writes or accumulates into an F32 or F64 device scalar") {
  FVec x = random_floats(1000), y = random_floats(77);
  double want_x = 0.0, want_y = 0.0;
  for (float v : x) want_x += static_cast<double>(v) * v;
  for (float v : y) want_y += static_cast<double>(v) * v;
  auto ops = ops_table::ops();
  std::vector<double> out64 = {123.0};
  ops.sum_squares(f32(x, {1000}), f64(out64, {}));
  CHECK(out64[0] == doctest::Approx(want_x).epsilon(1e-12));
  ops.sum_squares(f32(y, {7, 11}), f64(out64, {1}), true);
  CHECK(out64[0] == doctest::Approx(want_x + want_y).epsilon(1e-12));
  FVec out32 = {5.0f};
  ops.sum_squares(f32(y, {77}), f32(out32, {}), true);
  CHECK(out32[0] == doctest::Approx(5.0 + want_y).epsilon(1e-6));
  std::vector<int64_t> bad = {0};
  require_error([&] { ops.sum_squares(f32(y, {77}), i64(bad, {})); }, MSW_STATUS_SHAPE_MISMATCH,
                "out is i64 (), expected a f32 or f64 scalar");
}

TEST_CASE("embedding through the table: vocab_parallel shards give zero rows outside the shard, else an error") {
  const int64_t vocab = 4, dim = 3;
  FVec table = random_floats(vocab * dim), out(5 * dim, 9.0f);
  std::vector<int64_t> ids = {7, 8, 11, 12, 3};
  msw_embedding_forward_args a = sdk::Ops::args<msw_embedding_forward_args>();
  a.ids = i64(ids, {5});
  a.table = f32(table, {vocab, dim});
  a.out = f32(out, {5, dim});
  a.vocab_start = 8;
  a.vocab_parallel = 1;
  const msw_exec_ctx& ctx = cpu_ctx();
  sdk::check(megaswift::host::ops_api().embedding_forward(&ctx, &a));
  check_close("sharded rows", out, ops_ref::embedding(ids, to_double(table), dim, 8), 1e-12, 1e-12);
  a.vocab_parallel = 0;
  require_error([&] { sdk::check(megaswift::host::ops_api().embedding_forward(&ctx, &a)); }, MSW_STATUS_INVALID_ARGUMENT,
                "token id 7 at position 0 is outside the vocabulary [8, 12)");

  FVec g = random_floats(5 * dim), dtable(vocab * dim, 0.0f);
  msw_embedding_backward_args b = sdk::Ops::args<msw_embedding_backward_args>();
  b.ids = a.ids;
  b.dout = f32(g, {5, dim});
  b.dtable = f32(dtable, {vocab, dim});
  b.vocab_start = 8;
  b.vocab_parallel = 1;
  sdk::check(megaswift::host::ops_api().embedding_backward(&ctx, &b));
  for (int64_t j = 0; j < dim; ++j) {
    CHECK(dtable[0 * dim + j] == g[1 * dim + j]);  // id 8
    CHECK(dtable[3 * dim + j] == g[2 * dim + j]);  // id 11
    CHECK(dtable[1 * dim + j] == 0.0f);
  }
}

TEST_CASE("cross-entropy adds the loss sum and the count to device scalars and scales dlogits by a device scalar") {
  const int64_t rows = 6, vocab = 7;
  FVec logits = random_floats(rows * vocab, -3.0f, 3.0f), lse(rows), per_token(rows);
  std::vector<int64_t> labels = {3, -100, 0, 6, -100, 2};
  std::vector<double> loss_sum = {1.5};
  std::vector<int64_t> count = {10};
  msw_cross_entropy_args a = sdk::Ops::args<msw_cross_entropy_args>();
  a.logits = f32(logits, {rows, vocab});
  a.labels = i64(labels, {rows});
  a.ignore_index = -100;
  a.lse = f32(lse, {rows});
  a.per_token_loss = f32(per_token, {rows});
  a.loss_sum = f64(loss_sum, {});
  a.count = i64(count, {});
  auto ops = ops_table::ops();
  ops.cross_entropy_forward(a);
  double want = 0.0;
  for (int64_t i = 0; i < rows; ++i) {
    if (labels[i] == -100) continue;
    double z = 0.0;
    for (int64_t v = 0; v < vocab; ++v) z += std::exp(static_cast<double>(logits[i * vocab + v]));
    want += std::log(z) - logits[i * vocab + labels[i]];
  }
  CHECK(loss_sum[0] == doctest::Approx(1.5 + want).epsilon(1e-6));
  CHECK(count[0] == 14);
  ops.cross_entropy_forward(a);  // a second micro-batch adds again
  CHECK(count[0] == 18);

  FVec d_number(rows * vocab), d_tensor(rows * vocab);
  a.grad_scale = 0.25;
  a.dlogits = f32(d_number, {rows, vocab});
  ops.cross_entropy_backward(a);
  std::vector<double> scale = {0.25};
  a.grad_scale = 99.0;  // the device scalar wins
  a.grad_scale_tensor = f64(scale, {});
  a.dlogits = f32(d_tensor, {rows, vocab});
  ops.cross_entropy_backward(a);
  CHECK(d_tensor == d_number);
  for (int64_t v = 0; v < vocab; ++v) CHECK(d_number[1 * vocab + v] == 0.0f);  // ignored row
  const double p = std::exp(static_cast<double>(logits[0 * vocab + 3]) - lse[0]);
  CHECK(d_number[0 * vocab + 3] == doctest::Approx(0.25 * (p - 1.0)).epsilon(1e-5));
}

TEST_CASE("vocab-parallel cross-entropy over more than one rank is refused until the parallel backend exists") {
  FVec logits(4), lse(2);
  std::vector<int64_t> labels = {0, 1};
  msw_cross_entropy_args a = sdk::Ops::args<msw_cross_entropy_args>();
  a.logits = f32(logits, {2, 2});
  a.labels = i64(labels, {2});
  a.ignore_index = -100;
  a.lse = f32(lse, {2});
  int fake_group = 0;
  a.tp_comm = reinterpret_cast<msw_comm*>(&fake_group);
  require_error([&] { ops_table::ops().cross_entropy_forward(a); }, MSW_STATUS_UNSUPPORTED,
                "vocab-parallel cross-entropy needs the parallel backend");
}

TEST_CASE("fp8 tensors and fp8 scales are refused on CPU with a message naming them") {
  std::vector<uint8_t> x8(2 * 4);
  FVec w(3 * 4), y(2 * 3), x(2 * 4), scale = {1.0f};
  auto ops = ops_table::ops();
  const msw_tensor tx8 = sdk::make_tensor(x8.data(), MSW_DTYPE_F8_E4M3, {MSW_DEVICE_CPU, 0}, {2, 4});
  require_error([&] { ops.linear_forward(tx8, f32(w, {3, 4}), nullptr, f32(y, {2, 3})); }, MSW_STATUS_UNSUPPORTED,
                "x is f8_e4m3 (2, 4): fp8 tensors are not supported by the CPU backend");
  msw_linear_forward_args a = sdk::Ops::args<msw_linear_forward_args>();
  a.x = f32(x, {2, 4});
  a.weight = f32(w, {3, 4});
  a.y = f32(y, {2, 3});
  a.fp8.w_scale = f32(scale, {});
  const msw_exec_ctx& ctx = cpu_ctx();
  require_error([&] { sdk::check(megaswift::host::ops_api().linear_forward(&ctx, &a)); }, MSW_STATUS_UNSUPPORTED,
                "fp8.w_scale is given, but the CPU backend has no fp8 GEMM");
  CHECK(std::string(sdk::dtype_name(MSW_DTYPE_F8_E5M2)) == "float8_e5m2");
  CHECK(msw_dtype_size(MSW_DTYPE_F8_E4M3) == 1);
}
