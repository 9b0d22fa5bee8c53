// Device memory through the host table on MSW_DEVICE_CUDA. Needs a GPU: without one every case says it
// was skipped and why, and passes.
#include "host/core/host_api.hpp"
#include "host/cuda/caching_allocator.hpp"
#include "host/cuda/cuda_backend.hpp"

#include <cuda_runtime.h>
#include <doctest/doctest.h>

#include <iostream>
#include <vector>

using namespace megaswift::host;

namespace {
bool have_gpu() {
  if (cuda::device_count() > 0) return true;
  // CTest marks the case "Skipped" on this line (SKIP_REGULAR_EXPRESSION in CMakeLists.txt).
  std::cout << "skipped: no CUDA device is visible on this machine (the GPU suites run on the GPU machine)\n";
  return false;
}
}  // namespace

TEST_CASE("CUDA memory from the host table holds what is copied into it") {
  if (!have_gpu()) return;
  cuda::register_cuda_backend();
  const msw_host_api& api = host_api();
  void* p = nullptr;
  REQUIRE(api.alloc({MSW_DEVICE_CUDA, 0}, 1000 * sizeof(float), 0, &p) == nullptr);
  std::vector<float> in(1000), out(1000, 0.0f);
  for (int i = 0; i < 1000; ++i) in[i] = static_cast<float>(i) * 0.5f;
  REQUIRE(cudaMemcpy(p, in.data(), 4000, cudaMemcpyHostToDevice) == cudaSuccess);
  REQUIRE(cudaMemcpy(out.data(), p, 4000, cudaMemcpyDeviceToHost) == cudaSuccess);
  CHECK(out == in);
  api.free({MSW_DEVICE_CUDA, 0}, p);
}

TEST_CASE("a freed CUDA block of the same size class is reused without a new cudaMalloc") {
  if (!have_gpu()) return;
  cuda::register_cuda_backend();
  const msw_host_api& api = host_api();
  void* a = nullptr;
  REQUIRE(api.alloc({MSW_DEVICE_CUDA, 0}, 3 << 20, 0, &a) == nullptr);
  size_t mallocs = cuda::device_allocator().stats(0).device_allocations;
  api.free({MSW_DEVICE_CUDA, 0}, a);
  void* b = nullptr;
  REQUIRE(api.alloc({MSW_DEVICE_CUDA, 0}, (3 << 20) - 100, 0, &b) == nullptr);
  CHECK(b == a);
  CHECK(cuda::device_allocator().stats(0).device_allocations == mallocs);
  api.free({MSW_DEVICE_CUDA, 0}, b);
}

TEST_CASE("asking for a GPU that does not exist names the visible count") {
  if (!have_gpu()) return;
  cuda::register_cuda_backend();
  void* p = nullptr;
  msw_status* s = host_api().alloc({MSW_DEVICE_CUDA, 4096}, 16, 0, &p);
  REQUIRE(s != nullptr);
  CHECK(std::string(host_api().status_message(s)).find("GPU 4096 does not exist") != std::string::npos);
  host_api().status_free(s);
}

TEST_CASE("an impossible CUDA allocation fails with out-of-memory instead of crashing") {
  if (!have_gpu()) return;
  cuda::register_cuda_backend();
  void* p = nullptr;
  msw_status* s = host_api().alloc({MSW_DEVICE_CUDA, 0}, size_t(1) << 50, 0, &p);
  REQUIRE(s != nullptr);
  CHECK(host_api().status_code(s) == MSW_STATUS_OUT_OF_MEMORY);
  CHECK(p == nullptr);
  host_api().status_free(s);
}

TEST_CASE("size classes round small blocks to 512 bytes and large ones to 2 MiB") {
  CHECK(cuda::CachingAllocator::round_size(1) == 512);
  CHECK(cuda::CachingAllocator::round_size(513) == 1024);
  CHECK(cuda::CachingAllocator::round_size((1 << 20) + 1) == (2 << 20));
  CHECK(cuda::CachingAllocator::round_size(5 << 20) == (6 << 20));
}
