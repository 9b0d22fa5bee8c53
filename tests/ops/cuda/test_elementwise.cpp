// fill, copy, add, accumulate, scale and sum_squares on the GPU against the CPU backend through the ops table, in
// f32, bf16 and f16, on fresh random data; copy across dtypes and strides; sum_squares into f32/f64 with accumulate.
#include "cuda_op_support.hpp"

using namespace cuda_ops_test;
using ops_test::FVec;

namespace {
const int32_t kDtypes[] = {MSW_DTYPE_F32, MSW_DTYPE_BF16, MSW_DTYPE_F16};
}

TEST_CASE("CUDA add, accumulate, scale and fill equal the CPU backend in f32, bf16 and f16") {
  REQUIRE_GPU_OR_SKIP();
  for (int32_t dt : kDtypes)
    for (int64_t n : {int64_t{100003}, int64_t{65536}}) {  // 65536: the 16-byte packed add and accumulate
      CAPTURE(dt);
      CAPTURE(n);
      const FVec a = rounded(ops_test::random_floats(n, -2, 2), dt), b = rounded(ops_test::random_floats(n, -2, 2), dt);
      GpuTensor ga(a, dt, {n}), gb(b, dt, {n}), go(FVec(n), dt, {n});
      msw_add_args add = sdk::Ops::args<msw_add_args>();
      add.a = ga.t;
      add.b = gb.t;
      add.out = go.t;
      add.alpha = -0.5;
      REQUIRE(gpu_ops().api().add(&gpu_ctx(), &add) == nullptr);
      FVec want(n);
      for (int64_t i = 0; i < n; ++i) want[i] = a[i] - 0.5f * b[i];
      check_near("add", go.values(), rounded(want, dt), tolerance(dt));

      gpu_ops().accumulate(ga.t, gb.t);  // b += a
      for (int64_t i = 0; i < n; ++i) want[i] = b[i] + a[i];
      check_near("accumulate", gb.values(), rounded(want, dt), tolerance(dt));

      msw_scale_args sc = sdk::Ops::args<msw_scale_args>();
      sc.x = ga.t;
      sc.s = 0.25;
      REQUIRE(gpu_ops().api().scale(&gpu_ctx(), &sc) == nullptr);
      for (int64_t i = 0; i < n; ++i) want[i] = a[i] * 0.25f;
      check_near("scale", ga.values(), rounded(want, dt), tolerance(dt));

      gpu_ops().fill(go.t, 3.5);
      check_near("fill", go.values(), FVec(n, 3.5f), 0.0);
    }
}

TEST_CASE("CUDA scale by a device scalar and sum_squares into a device scalar need no host read") {
  REQUIRE_GPU_OR_SKIP();
  const int64_t n = 4099;
  const FVec x = ops_test::random_floats(n, -1, 1);
  GpuTensor gx(x, MSW_DTYPE_F32, {n});
  GpuTensor s(std::vector<double>{2.0}, MSW_DTYPE_F64, {});
  msw_scale_args sc = sdk::Ops::args<msw_scale_args>();
  sc.x = gx.t;
  sc.scale_tensor = s.t;
  REQUIRE(gpu_ops().api().scale(&gpu_ctx(), &sc) == nullptr);
  double want = 0;
  for (float v : x) want += 4.0 * double(v) * v;
  for (int32_t out_dtype : {MSW_DTYPE_F64, MSW_DTYPE_F32}) {
    GpuTensor out(std::vector<double>{1.0}, MSW_DTYPE_F64, {});
    GpuTensor out32(FVec{1.0f}, MSW_DTYPE_F32, {});
    msw_sum_squares_args ss = sdk::Ops::args<msw_sum_squares_args>();
    ss.x = gx.t;
    ss.out = out_dtype == MSW_DTYPE_F64 ? out.t : out32.t;
    ss.accumulate = 1;
    REQUIRE(gpu_ops().api().sum_squares(&gpu_ctx(), &ss) == nullptr);
    check_cuda(cudaDeviceSynchronize(), "sync");
    double got = 0;
    if (out_dtype == MSW_DTYPE_F64)
      check_cuda(cudaMemcpy(&got, out.buffer.data(), 8, cudaMemcpyDeviceToHost), "download");
    else
      got = out32.values()[0];
    CHECK(std::abs(got - (want + 1.0)) <= 1e-6 * want);
  }
}

TEST_CASE("CUDA copy converts dtypes and follows strides (a transpose), integers exactly") {
  REQUIRE_GPU_OR_SKIP();
  const int64_t r = 37, c = 53;
  const FVec x = ops_test::random_floats(r * c, -3, 3);
  GpuTensor src(x, MSW_DTYPE_F32, {r, c});
  GpuTensor dst(FVec(r * c), MSW_DTYPE_BF16, {c, r});
  msw_tensor transposed = src.t;  // (c, r) view of the (r, c) tensor
  transposed.shape[0] = c;
  transposed.shape[1] = r;
  transposed.strides[0] = 1;
  transposed.strides[1] = c;
  gpu_ops().copy(transposed, dst.t);
  FVec want(r * c);
  for (int64_t i = 0; i < r; ++i)
    for (int64_t j = 0; j < c; ++j) want[j * r + i] = x[i * c + j];
  check_near("transposing copy to bf16", dst.values(), rounded(want, MSW_DTYPE_BF16), 0.0);

  // Dense on both sides: the flat conversion path, every float pair (f32 -> 16-bit rounds once, to nearest even),
  // in 16-byte groups with an element-wise tail (37 x 53) and in whole groups (64 x 96).
  for (int64_t rows : {r, int64_t{64}})
  for (int32_t from : kDtypes)
    for (int32_t to : kDtypes) {
      const int64_t cols = rows == r ? c : 96;
      CAPTURE(rows);
      CAPTURE(from);
      CAPTURE(to);
      const FVec v = rounded(ops_test::random_floats(rows * cols, -3, 3), from);
      GpuTensor a(v, from, {rows, cols}), b(FVec(rows * cols), to, {rows, cols});
      gpu_ops().copy(a.t, b.t);
      check_near("dense copy", b.values(), rounded(v, to), 0.0);
    }

  const std::vector<int64_t> ids = {0, 1, (int64_t{1} << 53) + 1, -7};
  GpuTensor i64(ids, MSW_DTYPE_I64, {4});
  GpuTensor i64b(std::vector<int64_t>(4), MSW_DTYPE_I64, {4});
  gpu_ops().copy(i64.t, i64b.t);
  check_cuda(cudaDeviceSynchronize(), "sync");
  std::vector<int64_t> back(4);
  check_cuda(cudaMemcpy(back.data(), i64b.buffer.data(), 32, cudaMemcpyDeviceToHost), "download");
  CHECK(back == ids);
  GpuTensor f(FVec(4), MSW_DTYPE_F32, {4});
  msw_copy_args bad = sdk::Ops::args<msw_copy_args>();
  bad.src = i64.t;
  bad.dst = f.t;
  msw_status* st = gpu_ops().api().copy(&gpu_ctx(), &bad);
  REQUIRE(st != nullptr);
  CHECK(std::string(megaswift::host::host_api().status_message(st)).find("float <-> integer") != std::string::npos);
  megaswift::host::host_api().status_free(st);
}
