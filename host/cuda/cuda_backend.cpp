#include "host/cuda/cuda_backend.hpp"

#include "host/core/allocator.hpp"
#include "host/core/status.hpp"
#include "host/cuda/caching_allocator.hpp"

#include <cuda_runtime.h>

#include <string>

namespace megaswift::host::cuda {
namespace {

msw_status* cuda_alloc(msw_device device, size_t bytes, size_t alignment, void** out) {
  if (bytes == 0) {
    *out = nullptr;
    return nullptr;
  }
  if (alignment > 256)  // cudaMalloc guarantees 256 bytes
    return status_new(MSW_STATUS_INVALID_ARGUMENT,
                      ("alloc: CUDA memory is 256-byte aligned; " + std::to_string(alignment) + " was asked").c_str());
  int count = device_count();
  if (device.id < 0 || device.id >= count)
    return status_new(MSW_STATUS_INVALID_ARGUMENT, ("alloc: GPU " + std::to_string(device.id) + " does not exist; " +
                                                    std::to_string(count) + " visible (CUDA_VISIBLE_DEVICES)")
                                                       .c_str());
  std::string error;
  void* p = device_allocator().allocate(device.id, bytes, &error);
  if (!p) return status_new(MSW_STATUS_OUT_OF_MEMORY, error.c_str());
  *out = p;
  return nullptr;
}

void cuda_free(msw_device device, void* ptr) { device_allocator().release(device.id, ptr); }

}  // namespace

int device_count() {
  int n = 0;
  if (cudaGetDeviceCount(&n) != cudaSuccess) {
    cudaGetLastError();
    return 0;
  }
  return n;
}

CachingAllocator& device_allocator() {
  // Leaked on purpose: freeing CUDA memory during static destruction races the driver's own teardown.
  static auto* allocator = new CachingAllocator;
  return *allocator;
}

void register_cuda_backend() { register_device_allocator(MSW_DEVICE_CUDA, {cuda_alloc, cuda_free}); }

}  // namespace megaswift::host::cuda
