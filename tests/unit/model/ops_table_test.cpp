// The host's ops table (msw_ops_api, ABI 2): every entry takes (ctx, args); args are read within the caller's
// struct_size (NULL or too short: INVALID_ARGUMENT naming the op), an extension record marked required is
// UNSUPPORTED naming its type, a CUDA context is UNSUPPORTED naming the op and the device, shape mismatches
// name the op and the tensors, tensors whose last dimension is not dense are refused, and bf16/fp16 or
// row-strided tensors are staged through float32.
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
  msw_tensor_set_dense_shape(&t, static_cast<int32_t>(shape.size()), shape.data());
  return t;
}

msw_exec_ctx cpu_ctx() {
  msw_exec_ctx c{};
  c.struct_size = sizeof(c);
  c.num_threads = 1;
  c.device = {MSW_DEVICE_CPU, 0};
  return c;
}

template <class A>
A args() {
  A a{};
  a.struct_size = sizeof(A);
  return a;
}

struct Result {
  int32_t code = MSW_STATUS_OK;
  std::string message;
};
Result take(msw_status* s) {
  if (!s) return {};
  Result r{host::host_api().status_code(s), host::host_api().status_message(s)};
  host::host_api().status_free(s);
  return r;
}

uint16_t bf16(float f) {
  uint32_t u;
  std::memcpy(&u, &f, 4);
  return static_cast<uint16_t>(u >> 16);  // exact for the values used below
}

}  // namespace

TEST_CASE("the ops table is sized by the header and fills every entry") {
  const msw_ops_api& ops = host::ops_api();
  CHECK(ops.struct_size == sizeof(msw_ops_api));
  const auto* entries = reinterpret_cast<const char*>(&ops) + offsetof(msw_ops_api, fill);
  const size_t n = (sizeof(msw_ops_api) - offsetof(msw_ops_api, fill)) / sizeof(void*);
  for (size_t i = 0; i < n; ++i) {
    void* entry = nullptr;
    std::memcpy(&entry, entries + i * sizeof(void*), sizeof(void*));
    CHECK_MESSAGE(entry != nullptr, "entry " << i << " is NULL");
  }
}

TEST_CASE("a CUDA context is answered UNSUPPORTED, naming the op and the device") {
  const msw_ops_api& ops = host::ops_api();
  msw_exec_ctx ctx = cpu_ctx();
  ctx.device = {MSW_DEVICE_CUDA, 0};
  float x = 0;
  auto a = args<msw_fill_args>();
  a.out = make(&x, MSW_DTYPE_F32, {1}, {MSW_DEVICE_CUDA, 0});
  a.value = 1.0;
  const Result r = take(ops.fill(&ctx, &a));
  CHECK(r.code == MSW_STATUS_UNSUPPORTED);
  CHECK(r.message.find("ops.fill") != std::string::npos);
  CHECK(r.message.find("CUDA") != std::string::npos);
}

TEST_CASE("rope_rotary_dim answers on the host whatever the device of the context") {
  msw_exec_ctx ctx = cpu_ctx();
  ctx.device = {MSW_DEVICE_CUDA, 0};
  msw_rope_config cfg{};
  cfg.struct_size = sizeof cfg;
  cfg.theta = 10000;
  cfg.head_dim = 64;
  cfg.partial_rotary_factor = 0.5;
  cfg.factor = 1.0;
  int64_t rot = 0;
  auto a = args<msw_rope_rotary_dim_args>();
  a.config = &cfg;
  a.out = &rot;
  CHECK(take(host::ops_api().rope_rotary_dim(&ctx, &a)).message == "");
  CHECK(rot == 32);
}

TEST_CASE("NULL args and a struct_size short of the required members are refused naming the op") {
  const msw_ops_api& ops = host::ops_api();
  const msw_exec_ctx ctx = cpu_ctx();
  Result r = take(ops.attention_forward(&ctx, nullptr));
  CHECK(r.code == MSW_STATUS_INVALID_ARGUMENT);
  CHECK(r.message == "ops.attention_forward: args is NULL");
  auto a = args<msw_attention_args>();
  a.struct_size = static_cast<uint32_t>(offsetof(msw_attention_args, lse));  // ends before lse
  r = take(ops.attention_forward(&ctx, &a));
  CHECK(r.code == MSW_STATUS_INVALID_ARGUMENT);
  CHECK(r.message.find("ops.attention_forward: args->struct_size") != std::string::npos);
  CHECK(r.message.find("`lse`") != std::string::npos);
  r = take(ops.fill(nullptr, nullptr));
  CHECK(r.message == "ops.fill: ctx is NULL");
}

TEST_CASE("members past the caller's struct_size are read as zero, so an older caller gets the old behaviour") {
  const msw_ops_api& ops = host::ops_api();
  const msw_exec_ctx ctx = cpu_ctx();
  std::vector<float> x = {1, 2}, r = {10, 20}, w = {1, 1}, y(2), rstd(1), xo = {-1, -1};
  auto a = args<msw_rmsnorm_forward_args>();
  a.x = make(x.data(), MSW_DTYPE_F32, {1, 2});
  a.weight = make(w.data(), MSW_DTYPE_F32, {2});
  a.y = make(y.data(), MSW_DTYPE_F32, {1, 2});
  a.rstd = make(rstd.data(), MSW_DTYPE_F32, {1});
  a.eps = 0;
  // Bytes past the caller's struct (a residual it never meant to pass) are not its own: never read.
  a.weight_offset = 5.0;
  a.residual = make(r.data(), MSW_DTYPE_F32, {1, 2});
  a.x_out = make(xo.data(), MSW_DTYPE_F32, {1, 2});
  a.struct_size = static_cast<uint32_t>(offsetof(msw_rmsnorm_forward_args, weight_offset));
  REQUIRE(take(ops.rmsnorm_forward(&ctx, &a)).message == "");
  const float rms = std::sqrt(2.5f);
  CHECK(y[0] == doctest::Approx(1 / rms));
  CHECK(y[1] == doctest::Approx(2 / rms));
  CHECK(xo == std::vector<float>{-1, -1});
}

TEST_CASE("an extension record marked required is UNSUPPORTED naming its type; an optional one is ignored") {
  const msw_ops_api& ops = host::ops_api();
  const msw_exec_ctx ctx = cpu_ctx();
  float x = 0;
  auto a = args<msw_fill_args>();
  a.out = make(&x, MSW_DTYPE_F32, {1});
  a.value = 3.0;
  const msw_ext optional{sizeof(msw_ext), 0x77, nullptr};
  a.next = &optional;
  CHECK(take(ops.fill(&ctx, &a)).message == "");
  CHECK(x == 3.0f);
  const msw_ext required{sizeof(msw_ext), static_cast<int32_t>(0x77 | MSW_EXT_REQUIRED), nullptr};
  a.next = &required;
  const Result r = take(ops.fill(&ctx, &a));
  CHECK(r.code == MSW_STATUS_UNSUPPORTED);
  CHECK(r.message.find("ops.fill: extension record of type 0x80000077") != std::string::npos);
}

TEST_CASE("a shape mismatch names the op, the tensor and both shapes") {
  const msw_ops_api& ops = host::ops_api();
  const msw_exec_ctx ctx = cpu_ctx();
  std::vector<float> x(2 * 8), w(4 * 7), y(2 * 4);
  auto a = args<msw_linear_forward_args>();
  a.x = make(x.data(), MSW_DTYPE_F32, {2, 8});
  a.weight = make(w.data(), MSW_DTYPE_F32, {4, 7});
  a.y = make(y.data(), MSW_DTYPE_F32, {2, 4});
  const std::string m = take(ops.linear_forward(&ctx, &a)).message;
  CHECK(m.find("ops.linear_forward") != std::string::npos);
  CHECK(m.find("x is f32 (2, 8) but weight is f32 (4, 7)") != std::string::npos);
}

TEST_CASE("a missing required tensor and a tensor on another device than the call are refused") {
  const msw_ops_api& ops = host::ops_api();
  const msw_exec_ctx ctx = cpu_ctx();
  float v = 1;
  auto a = args<msw_scale_args>();
  a.s = 2.0;
  CHECK(take(ops.scale(&ctx, &a)).message.find("x is missing") != std::string::npos);
  a.x = make(&v, MSW_DTYPE_F32, {1}, {MSW_DEVICE_CUDA, 0});
  CHECK(take(ops.scale(&ctx, &a)).message.find("lives on device type 2:0") != std::string::npos);
}

TEST_CASE("a tensor whose last dimension is not dense is refused (no hidden copies), except by copy") {
  const msw_ops_api& ops = host::ops_api();
  const msw_exec_ctx ctx = cpu_ctx();
  std::vector<float> m = {1, 2, 3, 4, 5, 6};  // (2, 3)
  msw_tensor col_t = make(m.data(), MSW_DTYPE_F32, {3, 2});  // the transpose view: strides (1, 3)
  col_t.strides[0] = 1;
  col_t.strides[1] = 3;
  auto s = args<msw_scale_args>();
  s.x = col_t;
  s.s = 2.0;
  const Result r = take(ops.scale(&ctx, &s));
  CHECK(r.code == MSW_STATUS_INVALID_ARGUMENT);
  CHECK(r.message.find("has stride 3 in its last dimension") != std::string::npos);
  std::vector<float> dense(6);
  auto c = args<msw_copy_args>();
  c.src = col_t;
  c.dst = make(dense.data(), MSW_DTYPE_F32, {3, 2});
  CHECK(take(ops.copy(&ctx, &c)).message == "");
  CHECK(dense == std::vector<float>{1, 4, 2, 5, 3, 6});
}

TEST_CASE("bf16 inputs and outputs are computed in float32 and rounded back") {
  const msw_ops_api& ops = host::ops_api();
  const msw_exec_ctx ctx = cpu_ctx();
  // x (1, 2) = [1, 2], W (2, 2) = [[1, 0.5], [-1, 4]], y = x W^T = [2, 7]
  std::vector<uint16_t> x = {bf16(1), bf16(2)}, w = {bf16(1), bf16(0.5f), bf16(-1), bf16(4)}, y(2);
  auto a = args<msw_linear_forward_args>();
  a.x = make(x.data(), MSW_DTYPE_BF16, {1, 2});
  a.weight = make(w.data(), MSW_DTYPE_BF16, {2, 2});
  a.y = make(y.data(), MSW_DTYPE_BF16, {1, 2});
  CHECK(take(ops.linear_forward(&ctx, &a)).message == "");
  CHECK(y[0] == bf16(2));
  CHECK(y[1] == bf16(7));
}

TEST_CASE("a row stride wider than the row is staged: scale on a column block of a wider matrix") {
  const msw_ops_api& ops = host::ops_api();
  const msw_exec_ctx ctx = cpu_ctx();
  std::vector<float> m = {1, 2, 3, 4, 5, 6};  // (2, 3)
  msw_tensor block = make(m.data(), MSW_DTYPE_F32, {2, 2});
  block.strides[0] = 3;
  block.byte_offset = 4;  // columns 1..2
  auto a = args<msw_scale_args>();
  a.x = block;
  a.s = 10.0;
  CHECK(take(ops.scale(&ctx, &a)).message == "");
  CHECK(m == std::vector<float>{1, 20, 30, 4, 50, 60});
}

TEST_CASE("copy gathers a strided view and converts dtype") {
  const msw_ops_api& ops = host::ops_api();
  const msw_exec_ctx ctx = cpu_ctx();
  std::vector<float> m = {1, 2, 3, 4, 5, 6};  // (2, 3)
  msw_tensor col = make(m.data(), MSW_DTYPE_F32, {2, 1});
  col.strides[0] = 3;
  col.byte_offset = 4;  // column 1: [2, 5]
  std::vector<uint16_t> out(2);
  auto a = args<msw_copy_args>();
  a.src = col;
  a.dst = make(out.data(), MSW_DTYPE_BF16, {2, 1});
  CHECK(take(ops.copy(&ctx, &a)).message == "");
  CHECK(out[0] == bf16(2));
  CHECK(out[1] == bf16(5));
}

TEST_CASE("cross-entropy through the table counts only labelled rows into the device scalars") {
  const msw_ops_api& ops = host::ops_api();
  const msw_exec_ctx ctx = cpu_ctx();
  std::vector<float> logits = {0, 0, 0, 0, 0, 0};  // 2 rows of 3: uniform
  std::vector<int64_t> labels = {1, -100};
  std::vector<float> lse(2), loss_sum = {0};
  std::vector<int64_t> count = {0};
  auto a = args<msw_cross_entropy_args>();
  a.logits = make(logits.data(), MSW_DTYPE_F32, {2, 3});
  a.labels = make(labels.data(), MSW_DTYPE_I64, {2});
  a.ignore_index = -100;
  a.lse = make(lse.data(), MSW_DTYPE_F32, {2});
  a.loss_sum = make(loss_sum.data(), MSW_DTYPE_F32, {});
  a.count = make(count.data(), MSW_DTYPE_I64, {});
  CHECK(take(ops.cross_entropy_forward(&ctx, &a)).message == "");
  CHECK(count[0] == 1);
  CHECK(loss_sum[0] == doctest::Approx(std::log(3.0)));
}
