// What the CUDA op tests share: skipping without a GPU, device buffers, tensors in f32/bf16/f16 on the GPU made
// from host floats (rounded as the CPU backend rounds), and running one op through the table on the CPU and on
// the GPU with the same inputs. Tolerances: fp32 relative 1e-5, bf16 1e-2 (the bar).
#pragma once

#include "ops_table_support.hpp"
#include "test_support.hpp"

#include "host/cuda/cuda_backend.hpp"
#include "host/ops/tensor_args.hpp"

#include <cuda_runtime.h>
#include <doctest/doctest.h>

#include <cstring>
#include <string>
#include <vector>

namespace cuda_ops_test {

namespace sdk = megaswift::sdk;

inline bool have_gpu() {
  static const bool yes = [] {
    if (megaswift::host::cuda::device_count() == 0) return false;
    megaswift::host::cuda::register_cuda_backend();
    return true;
  }();
  return yes;
}

// At the top of every case: on a machine without a GPU the case passes with the message CTest looks for.
#define REQUIRE_GPU_OR_SKIP()                                    \
  do {                                                           \
    if (!::cuda_ops_test::have_gpu()) {                          \
      MESSAGE("skipped: no CUDA device is visible");             \
      return;                                                    \
    }                                                            \
  } while (0)

inline const msw_exec_ctx& gpu_ctx() {
  ops_table::connect_sdk();
  static const msw_exec_ctx ctx = [] {
    msw_exec_ctx c{};
    c.struct_size = sizeof c;
    c.device = {MSW_DEVICE_CUDA, 0};
    c.stream = nullptr;
    return c;
  }();
  return ctx;
}
inline sdk::Ops gpu_ops() { return sdk::Ops(gpu_ctx()); }

inline void check_cuda(cudaError_t rc, const char* what) {
  if (rc != cudaSuccess) FAIL(what << ": " << cudaGetErrorString(rc));
}

// Device memory, freed on destruction.
class DeviceBuffer {
 public:
  explicit DeviceBuffer(size_t bytes) : bytes_(bytes) { check_cuda(cudaMalloc(&p_, bytes ? bytes : 1), "cudaMalloc"); }
  ~DeviceBuffer() { cudaFree(p_); }
  DeviceBuffer(const DeviceBuffer&) = delete;
  DeviceBuffer& operator=(const DeviceBuffer&) = delete;
  DeviceBuffer(DeviceBuffer&& o) noexcept : p_(o.p_), bytes_(o.bytes_) { o.p_ = nullptr; }
  void* data() const { return p_; }
  size_t bytes() const { return bytes_; }

 private:
  void* p_ = nullptr;
  size_t bytes_ = 0;
};

// Host floats -> storage bytes of `dtype` (f32, bf16, f16; rounded to nearest even by the CPU backend's copy).
inline std::vector<unsigned char> encode(const std::vector<float>& v, int32_t dtype) {
  std::vector<float> src = v;
  std::vector<unsigned char> out(v.size() * msw_dtype_size(dtype));
  msw_tensor s = ops_table::f32(src, {static_cast<int64_t>(v.size())});
  msw_tensor d = sdk::make_tensor(out.data(), dtype, {MSW_DEVICE_CPU, 0}, {static_cast<int64_t>(v.size())});
  megaswift::host::ops::convert_copy(s, d);
  return out;
}
inline std::vector<float> decode(const std::vector<unsigned char>& bytes, int32_t dtype, size_t n) {
  std::vector<unsigned char> src = bytes;
  std::vector<float> out(n);
  msw_tensor s = sdk::make_tensor(src.data(), dtype, {MSW_DEVICE_CPU, 0}, {static_cast<int64_t>(n)});
  msw_tensor d = ops_table::f32(out, {static_cast<int64_t>(n)});
  megaswift::host::ops::convert_copy(s, d);
  return out;
}
// The values as the GPU will see them (rounded to `dtype`), for the CPU side of a comparison.
inline std::vector<float> rounded(const std::vector<float>& v, int32_t dtype) { return decode(encode(v, dtype), dtype, v.size()); }

// A tensor of `dtype` and `shape` on the GPU holding `values`.
struct GpuTensor {
  DeviceBuffer buffer;
  msw_tensor t{};
  int32_t dtype;
  size_t n;
  GpuTensor(const std::vector<float>& values, int32_t dtype_, std::initializer_list<int64_t> shape)
      : buffer(values.size() * msw_dtype_size(dtype_)), dtype(dtype_), n(values.size()) {
    const auto bytes = encode(values, dtype);
    check_cuda(cudaMemcpy(buffer.data(), bytes.data(), bytes.size(), cudaMemcpyHostToDevice), "upload");
    t = sdk::make_tensor(buffer.data(), dtype, {MSW_DEVICE_CUDA, 0}, shape);
  }
  // Raw bytes of an integer tensor (ids, cu_seqlens).
  template <class I>
  GpuTensor(const std::vector<I>& values, int32_t dtype_, std::initializer_list<int64_t> shape)
      : buffer(values.size() * sizeof(I)), dtype(dtype_), n(values.size()) {
    check_cuda(cudaMemcpy(buffer.data(), values.data(), values.size() * sizeof(I), cudaMemcpyHostToDevice), "upload");
    t = sdk::make_tensor(buffer.data(), dtype, {MSW_DEVICE_CUDA, 0}, shape);
  }
  std::vector<float> values() const {
    check_cuda(cudaDeviceSynchronize(), "synchronize");
    std::vector<unsigned char> bytes(n * msw_dtype_size(dtype));
    check_cuda(cudaMemcpy(bytes.data(), buffer.data(), bytes.size(), cudaMemcpyDeviceToHost), "download");
    return decode(bytes, dtype, n);
  }
};

// |got - want| <= tol * max(1, |want|) elementwise, reporting the worst element.
inline void check_near(const std::string& what, const std::vector<float>& got, const std::vector<float>& want,
                       double tol) {
  REQUIRE(got.size() == want.size());
  double worst = 0;
  size_t at = 0;
  for (size_t i = 0; i < got.size(); ++i) {
    const double e = std::abs(double(got[i]) - want[i]) / std::max(1.0, std::abs(double(want[i])));
    if (!(e <= worst)) {
      worst = e;
      at = i;
    }
  }
  INFO(what << ": worst relative error " << worst << " at " << at << " (got " << got[at] << ", want " << want[at] << ")");
  CHECK(worst <= tol);
}

inline double tolerance(int32_t dtype) { return dtype == MSW_DTYPE_F32 ? 1e-5 : dtype == MSW_DTYPE_BF16 ? 1e-2 : 2e-3; }

}  // namespace cuda_ops_test
