#include "host/core/allocator.hpp"

#include "host/core/status.hpp"

#include <array>
#include <cstdlib>
#include <mutex>
#include <string>

namespace megaswift::host {
namespace {

constexpr size_t kDefaultAlignment = 256;  // enough for AVX-512 loads and for cuBLAS on pinned memory

msw_status* cpu_alloc(msw_device, size_t bytes, size_t alignment, void** out) {
  if (alignment == 0) alignment = kDefaultAlignment;
  if ((alignment & (alignment - 1)) != 0)
    return status_new(MSW_STATUS_INVALID_ARGUMENT,
                      ("alloc: alignment " + std::to_string(alignment) + " is not a power of two").c_str());
  if (bytes == 0) {
    *out = nullptr;
    return nullptr;
  }
  size_t rounded = (bytes + alignment - 1) / alignment * alignment;  // aligned_alloc needs a multiple
  void* p = std::aligned_alloc(alignment, rounded);
  if (!p)
    return status_new(MSW_STATUS_OUT_OF_MEMORY,
                      ("could not allocate " + std::to_string(bytes) + " bytes of host memory").c_str());
  *out = p;
  return nullptr;
}

void cpu_free(msw_device, void* ptr) { std::free(ptr); }

constexpr int32_t kMaxDeviceType = 16;
std::mutex g_mutex;
std::array<DeviceAllocator, kMaxDeviceType> g_allocators = [] {
  std::array<DeviceAllocator, kMaxDeviceType> a{};
  a[MSW_DEVICE_CPU] = {cpu_alloc, cpu_free};
  return a;
}();

DeviceAllocator lookup(int32_t type) {
  std::lock_guard lock(g_mutex);
  if (type < 0 || type >= kMaxDeviceType) return {};
  return g_allocators[type];
}

}  // namespace

void register_device_allocator(int32_t device_type, DeviceAllocator allocator) {
  std::lock_guard lock(g_mutex);
  if (device_type >= 0 && device_type < kMaxDeviceType) g_allocators[device_type] = allocator;
}

msw_status* device_alloc(msw_device device, size_t bytes, size_t alignment, void** out) {
  if (!out) return status_new(MSW_STATUS_INVALID_ARGUMENT, "alloc: out is NULL");
  DeviceAllocator a = lookup(device.type);
  if (!a.alloc)
    return status_new(MSW_STATUS_UNSUPPORTED,
                      ("alloc: no backend for device type " + std::to_string(device.type) +
                       " is built into this Megaswift (CPU is type 1, CUDA type 2)").c_str());
  return a.alloc(device, bytes, alignment, out);
}

void device_free(msw_device device, void* ptr) {
  if (!ptr) return;
  DeviceAllocator a = lookup(device.type);
  if (a.free) a.free(device, ptr);
}

}  // namespace megaswift::host
