// Device memory, events and streams through the host table on MSW_DEVICE_CUDA. Needs a GPU: without one
// every GPU case says it was skipped and why, and passes.
#include "host/core/events.hpp"
#include "host/core/host_api.hpp"
#include "host/cuda/caching_allocator.hpp"
#include "host/cuda/cuda_backend.hpp"

#include <cuda_runtime.h>
#include <doctest/doctest.h>

#include <iostream>
#include <string>
#include <vector>

using namespace megaswift::host;

namespace {
bool have_gpu() {
  if (cuda::device_count() > 0) return true;
  // CTest marks the case "Skipped" on this line (SKIP_REGULAR_EXPRESSION in CMakeLists.txt).
  std::cout << "skipped: no CUDA device is visible on this machine (the GPU suites run on the GPU machine)\n";
  return false;
}

constexpr msw_device kGpu0{MSW_DEVICE_CUDA, 0};

msw_alloc_args alloc_args(size_t bytes, void* stream = nullptr, uint32_t flags = 0, msw_device device = kGpu0) {
  msw_alloc_args a{};
  a.struct_size = sizeof a;
  a.device = device;
  a.bytes = bytes;
  a.stream = stream;
  a.flags = flags;
  return a;
}

void free_on(void* p, void* stream = nullptr) {
  msw_free_args f{};
  f.struct_size = sizeof f;
  f.device = kGpu0;
  f.ptr = p;
  f.stream = stream;
  host_api().free(&f);
}

std::string take_message(msw_status* s) {
  std::string m = host_api().status_message(s);
  host_api().status_free(s);
  return m;
}
}  // namespace

TEST_CASE("CUDA memory from the host table holds what is copied into it") {
  if (!have_gpu()) return;
  cuda::register_cuda_backend();
  const msw_host_api& api = host_api();
  void* p = nullptr;
  const msw_alloc_args a = alloc_args(1000 * sizeof(float));
  REQUIRE(api.alloc(&a, &p) == nullptr);
  std::vector<float> in(1000), out(1000, 0.0f);
  for (int i = 0; i < 1000; ++i) in[i] = static_cast<float>(i) * 0.5f;
  REQUIRE(cudaMemcpy(p, in.data(), 4000, cudaMemcpyHostToDevice) == cudaSuccess);
  REQUIRE(cudaMemcpy(out.data(), p, 4000, cudaMemcpyDeviceToHost) == cudaSuccess);
  CHECK(out == in);
  free_on(p);
}

TEST_CASE("MSW_ALLOC_ZERO gives zero-filled CUDA memory even when the block is reused from the cache") {
  if (!have_gpu()) return;
  cuda::register_cuda_backend();
  const msw_host_api& api = host_api();
  void* a = nullptr;
  const msw_alloc_args plain = alloc_args(4096);
  REQUIRE(api.alloc(&plain, &a) == nullptr);
  REQUIRE(cudaMemset(a, 0x7f, 4096) == cudaSuccess);
  free_on(a);
  void* b = nullptr;
  const msw_alloc_args zeroed = alloc_args(4096, nullptr, MSW_ALLOC_ZERO);
  REQUIRE(api.alloc(&zeroed, &b) == nullptr);
  CHECK(b == a);  // the dirty block came back: the zero fill is what cleared it
  std::vector<unsigned char> host(4096, 1);
  REQUIRE(cudaMemcpy(host.data(), b, 4096, cudaMemcpyDeviceToHost) == cudaSuccess);
  CHECK(host == std::vector<unsigned char>(4096, 0));
  free_on(b);
}

TEST_CASE("a freed CUDA block of the same size class is reused on the same stream without a new cudaMalloc") {
  if (!have_gpu()) return;
  cuda::register_cuda_backend();
  const msw_host_api& api = host_api();
  void* a = nullptr;
  const msw_alloc_args big = alloc_args(3 << 20);
  REQUIRE(api.alloc(&big, &a) == nullptr);
  size_t mallocs = cuda::device_allocator().stats(0).device_allocations;
  free_on(a);
  void* b = nullptr;
  const msw_alloc_args smaller = alloc_args((3 << 20) - 100);
  REQUIRE(api.alloc(&smaller, &b) == nullptr);
  CHECK(b == a);
  CHECK(cuda::device_allocator().stats(0).device_allocations == mallocs);
  free_on(b);
}

TEST_CASE("a block freed on one stream is not handed to another stream (stream-ordered reuse)") {
  if (!have_gpu()) return;
  cuda::register_cuda_backend();
  const msw_host_api& api = host_api();
  cudaStream_t s1 = nullptr, s2 = nullptr;
  REQUIRE(cudaStreamCreate(&s1) == cudaSuccess);
  REQUIRE(cudaStreamCreate(&s2) == cudaSuccess);
  void* a = nullptr;
  const msw_alloc_args on_s1 = alloc_args(5 << 20, s1);
  REQUIRE(api.alloc(&on_s1, &a) == nullptr);
  free_on(a, s1);
  void* b = nullptr;
  const msw_alloc_args on_s2 = alloc_args(5 << 20, s2);
  REQUIRE(api.alloc(&on_s2, &b) == nullptr);
  CHECK(b != a);
  void* c = nullptr;
  REQUIRE(api.alloc(&on_s1, &c) == nullptr);
  CHECK(c == a);
  free_on(b, s2);
  free_on(c, s1);
  cudaStreamDestroy(s1);
  cudaStreamDestroy(s2);
}

TEST_CASE("a persistent CUDA block bypasses the cache") {
  if (!have_gpu()) return;
  cuda::register_cuda_backend();
  const msw_host_api& api = host_api();
  const size_t cached = cuda::device_allocator().stats(0).bytes_cached;
  void* p = nullptr;
  const msw_alloc_args a = alloc_args(7 << 20, nullptr, MSW_ALLOC_PERSISTENT);
  REQUIRE(api.alloc(&a, &p) == nullptr);
  free_on(p);
  CHECK(cuda::device_allocator().stats(0).bytes_cached == cached);
}

TEST_CASE("CUDA events order work across streams and synchronise the host") {
  if (!have_gpu()) return;
  cuda::register_cuda_backend();
  const msw_host_api& api = host_api();
  cudaStream_t producer = nullptr, consumer = nullptr;
  REQUIRE(cudaStreamCreate(&producer) == cudaSuccess);
  REQUIRE(cudaStreamCreate(&consumer) == cudaSuccess);
  const size_t n = 1 << 20;
  void *src = nullptr, *dst = nullptr;
  const msw_alloc_args a = alloc_args(n, producer);
  REQUIRE(api.alloc(&a, &src) == nullptr);
  const msw_alloc_args b = alloc_args(n, consumer);
  REQUIRE(api.alloc(&b, &dst) == nullptr);
  msw_event* ev = nullptr;
  REQUIRE(api.event_create(kGpu0, &ev) == nullptr);
  REQUIRE(cudaMemsetAsync(src, 0x2a, n, producer) == cudaSuccess);
  REQUIRE(api.event_record(ev, producer) == nullptr);
  REQUIRE(api.stream_wait_event(consumer, ev) == nullptr);
  REQUIRE(cudaMemcpyAsync(dst, src, n, cudaMemcpyDeviceToDevice, consumer) == cudaSuccess);
  msw_event* done = nullptr;
  REQUIRE(api.event_create(kGpu0, &done) == nullptr);
  REQUIRE(api.event_record(done, consumer) == nullptr);
  REQUIRE(api.event_synchronize(done) == nullptr);
  CHECK(cudaEventQuery(static_cast<cudaEvent_t>(done->handle)) == cudaSuccess);
  std::vector<unsigned char> host(n);
  REQUIRE(cudaMemcpy(host.data(), dst, n, cudaMemcpyDeviceToHost) == cudaSuccess);
  CHECK(host == std::vector<unsigned char>(n, 0x2a));
  REQUIRE(api.stream_synchronize(kGpu0, producer) == nullptr);
  api.event_destroy(ev);
  api.event_destroy(done);
  free_on(src, producer);
  free_on(dst, consumer);
  cudaStreamDestroy(producer);
  cudaStreamDestroy(consumer);
}

TEST_CASE("asking for a GPU that does not exist names the visible count") {
  if (!have_gpu()) return;
  cuda::register_cuda_backend();
  void* p = nullptr;
  const msw_alloc_args a = alloc_args(16, nullptr, 0, {MSW_DEVICE_CUDA, 4096});
  msw_status* s = host_api().alloc(&a, &p);
  REQUIRE(s != nullptr);
  CHECK(take_message(s).find("GPU 4096 does not exist") != std::string::npos);
  msw_event* ev = nullptr;
  s = host_api().event_create({MSW_DEVICE_CUDA, 4096}, &ev);
  REQUIRE(s != nullptr);
  CHECK(take_message(s).find("GPU 4096 does not exist") != std::string::npos);
}

TEST_CASE("an impossible CUDA allocation fails with out-of-memory instead of crashing") {
  if (!have_gpu()) return;
  cuda::register_cuda_backend();
  void* p = nullptr;
  const msw_alloc_args a = alloc_args(size_t(1) << 50);
  msw_status* s = host_api().alloc(&a, &p);
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
