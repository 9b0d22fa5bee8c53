#include "host/cuda/caching_allocator.hpp"

#include <cuda_runtime.h>

#include <string>

namespace megaswift::host::cuda {

size_t CachingAllocator::round_size(size_t bytes) {
  constexpr size_t kSmall = 512, kLarge = 2u << 20, kLargeThreshold = 1u << 20;
  size_t unit = bytes < kLargeThreshold ? kSmall : kLarge;
  return (bytes + unit - 1) / unit * unit;
}

void CachingAllocator::release_cached_locked(int device) {
  for (auto& [key, blocks] : free_) {
    if (std::get<0>(key) != device) continue;
    for (void* b : blocks) cudaFree(b);  // synchronises the device: no stream still uses the block
    stats_[device].bytes_cached -= std::get<1>(key) * blocks.size();
    blocks.clear();
  }
}

void* CachingAllocator::allocate(int device, size_t bytes, void* stream, bool persistent, std::string* error) {
  const size_t size = round_size(bytes);
  std::lock_guard lock(mutex_);
  AllocatorStats& st = stats_[device];
  void* ptr = nullptr;
  auto bucket = persistent ? free_.end() : free_.find({device, size, stream});
  if (bucket != free_.end() && !bucket->second.empty()) {
    ptr = bucket->second.back();
    bucket->second.pop_back();
    st.bytes_cached -= size;
  } else {
    int previous = 0;
    cudaGetDevice(&previous);
    cudaSetDevice(device);
    cudaError_t rc = cudaMalloc(&ptr, size);
    if (rc == cudaErrorMemoryAllocation) {
      cudaGetLastError();  // clear the error before retrying
      release_cached_locked(device);
      rc = cudaMalloc(&ptr, size);
    }
    cudaSetDevice(previous);
    if (rc != cudaSuccess) {
      if (error)
        *error = "cudaMalloc of " + std::to_string(size) + " bytes on GPU " + std::to_string(device) +
                 " failed: " + cudaGetErrorString(rc);
      cudaGetLastError();
      return nullptr;
    }
    ++st.device_allocations;
  }
  live_[ptr] = {device, size, persistent};
  st.bytes_in_use += size;
  if (st.bytes_in_use > st.peak_bytes_in_use) st.peak_bytes_in_use = st.bytes_in_use;
  return ptr;
}

void CachingAllocator::release(int device, void* ptr, void* stream) {
  if (!ptr) return;
  std::lock_guard lock(mutex_);
  auto it = live_.find(ptr);
  if (it == live_.end()) return;  // not ours: ignore rather than corrupt the cache
  Block b = it->second;
  (void)device;
  live_.erase(it);
  AllocatorStats& st = stats_[b.device];
  st.bytes_in_use -= b.size;
  if (b.persistent) {
    int previous = 0;
    cudaGetDevice(&previous);
    cudaSetDevice(b.device);
    cudaFree(ptr);
    cudaSetDevice(previous);
    return;
  }
  free_[{b.device, b.size, stream}].push_back(ptr);
  st.bytes_cached += b.size;
}

void CachingAllocator::empty_cache() {
  std::lock_guard lock(mutex_);
  for (auto& [key, blocks] : free_) {
    for (void* b : blocks) cudaFree(b);
    stats_[std::get<0>(key)].bytes_cached -= std::get<1>(key) * blocks.size();
    blocks.clear();
  }
}

AllocatorStats CachingAllocator::stats(int device) const {
  std::lock_guard lock(mutex_);
  auto it = stats_.find(device);
  return it == stats_.end() ? AllocatorStats{} : it->second;
}

}  // namespace megaswift::host::cuda
