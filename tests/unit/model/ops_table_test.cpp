// The host's ops table: device dispatch (CUDA answers UNSUPPORTED naming the op), shape checks that name the
// op and the tensors, and bf16/fp16/strided tensors staged through float32.
#include "host/core/host_api.hpp"
#include "host/ops/ops_api.hpp"

#include <doctest/doctest.h>

#include <cmath>
#include <cstring>
#include <string>
#include <vector>

using namespace megaswift;

namespace {

msw_tensor make(void* d, int32_t dtype, std::vector<int64_t> shape, msw_device dev = {MSW_DEVICE_CPU, 0}) {
  msw_tensor t{};
  t.data = d;
  t.device = dev;
  t.dtype = dtype;
  t.ndim = static_cast<int32_t>(shape.size());
  int64_t st = 1;
  for (int i = t.ndim - 1; i >= 0; --i) {
    t.shape[i] = shape[i];
    t.strides[i] = st;
    st *= shape[i];
  }
  return t;
}

msw_exec_ctx cpu_ctx() {
  msw_exec_ctx c{};
  c.struct_size = sizeof(c);
  c.num_threads = 1;
  c.device = {MSW_DEVICE_CPU, 0};
  return c;
}

std::string take_message(msw_status* s) {
  if (!s) return "";
  std::string m = host::host_api().status_message(s);
  host::host_api().status_free(s);
  return m;
}

uint16_t bf16(float f) {
  uint32_t u;
  std::memcpy(&u, &f, 4);
  return static_cast<uint16_t>(u >> 16);  // exact for the values used below
}

}  // namespace

TEST_CASE("a CUDA context is answered UNSUPPORTED, naming the op and the device") {
  const msw_ops_api& ops = host::ops_api();
  msw_exec_ctx ctx = cpu_ctx();
  ctx.device = {MSW_DEVICE_CUDA, 0};
  float x = 0;
  const msw_tensor t = make(&x, MSW_DTYPE_F32, {1}, {MSW_DEVICE_CUDA, 0});
  msw_status* s = ops.fill(&ctx, &t, 1.0);
  REQUIRE(s);
  CHECK(host::host_api().status_code(s) == MSW_STATUS_UNSUPPORTED);
  const std::string m = take_message(s);
  CHECK(m.find("ops.fill") != std::string::npos);
  CHECK(m.find("CUDA") != std::string::npos);
}

TEST_CASE("a shape mismatch names the op, the tensor and both shapes") {
  const msw_ops_api& ops = host::ops_api();
  const msw_exec_ctx ctx = cpu_ctx();
  std::vector<float> x(2 * 8), w(4 * 7), y(2 * 4);
  const msw_tensor tx = make(x.data(), MSW_DTYPE_F32, {2, 8}), tw = make(w.data(), MSW_DTYPE_F32, {4, 7}),
                   ty = make(y.data(), MSW_DTYPE_F32, {2, 4});
  const std::string m = take_message(ops.linear_forward(&ctx, &tx, &tw, nullptr, &ty));
  CHECK(m.find("ops.linear_forward") != std::string::npos);
  CHECK(m.find("x is f32 (2, 8) but weight is f32 (4, 7)") != std::string::npos);
}

TEST_CASE("a tensor on another device than the call is refused") {
  const msw_ops_api& ops = host::ops_api();
  const msw_exec_ctx ctx = cpu_ctx();
  float a = 1;
  const msw_tensor t = make(&a, MSW_DTYPE_F32, {1}, {MSW_DEVICE_CUDA, 0});
  CHECK(take_message(ops.scale(&ctx, &t, 2.0)).find("lives on device type 2:0") != std::string::npos);
}

TEST_CASE("bf16 inputs and outputs are computed in float32 and rounded back") {
  const msw_ops_api& ops = host::ops_api();
  const msw_exec_ctx ctx = cpu_ctx();
  // x (1, 2) = [1, 2], W (2, 2) = [[1, 0.5], [-1, 4]], y = x W^T = [2, 7]
  std::vector<uint16_t> x = {bf16(1), bf16(2)}, w = {bf16(1), bf16(0.5f), bf16(-1), bf16(4)}, y(2);
  const msw_tensor tx = make(x.data(), MSW_DTYPE_BF16, {1, 2}), tw = make(w.data(), MSW_DTYPE_BF16, {2, 2}),
                   ty = make(y.data(), MSW_DTYPE_BF16, {1, 2});
  CHECK(take_message(ops.linear_forward(&ctx, &tx, &tw, nullptr, &ty)) == "");
  CHECK(y[0] == bf16(2));
  CHECK(y[1] == bf16(7));
}

TEST_CASE("copy gathers a strided view and converts dtype") {
  const msw_ops_api& ops = host::ops_api();
  const msw_exec_ctx ctx = cpu_ctx();
  std::vector<float> m = {1, 2, 3, 4, 5, 6};  // (2, 3)
  msw_tensor col = make(m.data(), MSW_DTYPE_F32, {2, 1});
  col.strides[0] = 3;
  col.byte_offset = 4;  // column 1: [2, 5]
  std::vector<uint16_t> out(2);
  const msw_tensor to = make(out.data(), MSW_DTYPE_BF16, {2, 1});
  CHECK(take_message(ops.copy(&ctx, &col, &to)) == "");
  CHECK(out[0] == bf16(2));
  CHECK(out[1] == bf16(5));
}

TEST_CASE("cross-entropy through the table counts only labelled rows") {
  const msw_ops_api& ops = host::ops_api();
  const msw_exec_ctx ctx = cpu_ctx();
  std::vector<float> logits = {0, 0, 0, 0, 0, 0};  // 2 rows of 3: uniform
  std::vector<int64_t> labels = {1, -100};
  std::vector<float> lse(2);
  const msw_tensor tl = make(logits.data(), MSW_DTYPE_F32, {2, 3}), tb = make(labels.data(), MSW_DTYPE_I64, {2}),
                   ts = make(lse.data(), MSW_DTYPE_F32, {2});
  msw_cross_entropy_result r{};
  CHECK(take_message(ops.cross_entropy_forward(&ctx, &tl, &tb, -100, &ts, nullptr, &r)) == "");
  CHECK(r.count == 1);
  CHECK(r.loss == doctest::Approx(std::log(3.0)));
}
