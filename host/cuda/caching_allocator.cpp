#include "host/cuda/caching_allocator.hpp"

#include <cuda_runtime.h>

#include <string>

namespace megaswift::host::cuda {

size_t CachingAllocator::round_size(size_t bytes) {
  constexpr size_t kSmall = 512, kLarge = 2u << 20, kLargeThreshold = 1u << 20;
  size_t unit = bytes < kLargeThreshold ? kSmall : kLarge;
  return (bytes + unit - 1) / unit * unit;
}

void* CachingAllocator::allocate(int device, size_t bytes, std::string* error) {
  const size_t size = round_size(bytes);
  std::lock_guard lock(mutex_);
  AllocatorStats& st = stats_[device];
  auto& bucket = free_[{device, size}];
  void* ptr = nullptr;
  if (!bucket.empty()) {
    ptr = bucket.back();
    bucket.pop_back();
    st.bytes_cached -= size;
  } else {
    int previous = 0;
    cudaGetDevice(&previous);
    cudaSetDevice(device);
    cudaError_t rc = cudaMalloc(&ptr, size);
    if (rc == cudaErrorMemoryAllocation) {
      cudaGetLastError();  // clear the sticky-free error before retrying
      for (auto& [key, blocks] : free_) {
        if (key.first != device) continue;
        for (void* b : blocks) cudaFree(b);
        st.bytes_cached -= key.second * blocks.size();
        blocks.clear();
      }
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
  live_[ptr] = {device, size};
  st.bytes_in_use += size;
  if (st.bytes_in_use > st.peak_bytes_in_use) st.peak_bytes_in_use = st.bytes_in_use;
  return ptr;
}

void CachingAllocator::release(int device, void* ptr) {
  if (!ptr) return;
  std::lock_guard lock(mutex_);
  auto it = live_.find(ptr);
  if (it == live_.end()) return;  // not ours: ignore rather than corrupt the cache
  Block b = it->second;
  (void)device;
  live_.erase(it);
  free_[{b.device, b.size}].push_back(ptr);
  AllocatorStats& st = stats_[b.device];
  st.bytes_in_use -= b.size;
  st.bytes_cached += b.size;
}

void CachingAllocator::empty_cache() {
  std::lock_guard lock(mutex_);
  for (auto& [key, blocks] : free_) {
    for (void* b : blocks) cudaFree(b);
    stats_[key.first].bytes_cached -= key.second * blocks.size();
    blocks.clear();
  }
}

AllocatorStats CachingAllocator::stats(int device) const {
  std::lock_guard lock(mutex_);
  auto it = stats_.find(device);
  return it == stats_.end() ? AllocatorStats{} : it->second;
}

}  // namespace megaswift::host::cuda
