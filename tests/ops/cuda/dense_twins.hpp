// The dense family's tests (test_dense, test_cross_entropy, test_optimizer) run each op twice on the same bytes:
// through the ops table on a CPU tensor and on a GPU tensor of the same dtype and layout, then compare what the
// two wrote. A Twin holds one such pair; views (a column block of a wider matrix) are taken on both alike.
#pragma once

#include "cuda_op_support.hpp"

#include <cstring>
#include <memory>
#include <vector>

namespace cuda_ops_test {

struct Twin {
  std::vector<unsigned char> host;  // the CPU tensor's storage
  GpuTensor gpu;
  msw_tensor cpu{};
  msw_tensor dev{};  // gpu.t, or a view of it
  int32_t dtype;

  Twin(const std::vector<float>& values, int32_t dtype_, std::initializer_list<int64_t> shape)
      : host(encode(values, dtype_)), gpu(values, dtype_, shape), dtype(dtype_) {
    cpu = sdk::make_tensor(host.data(), dtype, {MSW_DEVICE_CPU, 0}, shape);
    dev = gpu.t;
  }
  // Raw integer or f64 values (labels, device scalars).
  template <class I>
  Twin(const std::vector<I>& values, int32_t dtype_, std::initializer_list<int64_t> shape)
      : host(values.size() * sizeof(I)), gpu(values, dtype_, shape), dtype(dtype_) {
    std::memcpy(host.data(), values.data(), host.size());
    cpu = sdk::make_tensor(host.data(), dtype, {MSW_DEVICE_CPU, 0}, shape);
    dev = gpu.t;
  }
  Twin(const Twin&) = delete;
  Twin& operator=(const Twin&) = delete;

  // Both sides seen through the same view.
  void narrow(int32_t dim, int64_t begin, int64_t count) {
    cpu = sdk::narrow(cpu, dim, begin, count);
    dev = sdk::narrow(dev, dim, begin, count);
  }
  // Every element of the underlying storage (a view's surroundings included: nothing outside it may change).
  std::vector<float> cpu_values() const { return decode(host, dtype, gpu.n); }
  std::vector<float> gpu_values() const { return gpu.values(); }
  template <class T>
  std::vector<T> raw_gpu() const {
    check_cuda(cudaDeviceSynchronize(), "synchronize");
    std::vector<T> out(host.size() / sizeof(T));
    check_cuda(cudaMemcpy(out.data(), gpu.buffer.data(), host.size(), cudaMemcpyDeviceToHost), "download");
    return out;
  }
  template <class T>
  std::vector<T> raw_cpu() const {
    std::vector<T> out(host.size() / sizeof(T));
    std::memcpy(out.data(), host.data(), host.size());
    return out;
  }
};

using TwinPtr = std::unique_ptr<Twin>;
inline TwinPtr twin(const std::vector<float>& values, int32_t dtype, std::initializer_list<int64_t> shape) {
  return std::make_unique<Twin>(values, dtype, shape);
}

// GPU and CPU results of one twin compared elementwise.
inline void check_twin(const std::string& what, const Twin& t, double tol) {
  check_near(what, t.gpu_values(), t.cpu_values(), tol);
}

inline const char* dtype_name(int32_t d) { return megaswift::host::ops::dtype_short(d); }

// A status the call must not return: its message becomes the failure.
inline void expect_ok(msw_status* s) {
  if (!s) return;
  const std::string message = megaswift::host::host_api().status_message(s);
  megaswift::host::host_api().status_free(s);
  FAIL(message);
}

}  // namespace cuda_ops_test
