// A caching allocator for CUDA device memory: freed blocks are kept per device and size class and
// handed out again, because cudaMalloc/cudaFree synchronise the device and cost tens of microseconds
// each, which a training step that allocates activations every micro-batch cannot afford.
#pragma once

#include <cstddef>
#include <cstdint>
#include <map>
#include <mutex>
#include <string>
#include <unordered_map>
#include <vector>

namespace megaswift::host::cuda {

struct AllocatorStats {
  size_t bytes_in_use = 0;     // handed out and not yet freed
  size_t bytes_cached = 0;     // freed, kept for reuse
  size_t peak_bytes_in_use = 0;
  size_t device_allocations = 0;  // calls to cudaMalloc
};

class CachingAllocator {
 public:
  // Returns nullptr and sets `error` to the CUDA error text on failure (after one retry that first
  // releases the cache back to the driver).
  void* allocate(int device, size_t bytes, std::string* error);
  void release(int device, void* ptr);
  // Gives every cached block back to the driver.
  void empty_cache();
  AllocatorStats stats(int device) const;

  // Sizes are rounded up so blocks of nearly equal size can be reused: to 512 bytes below 1 MiB,
  // to 2 MiB above.
  static size_t round_size(size_t bytes);

 private:
  struct Block {
    int device;
    size_t size;
  };
  mutable std::mutex mutex_;
  std::unordered_map<void*, Block> live_;
  std::map<std::pair<int, size_t>, std::vector<void*>> free_;  // (device, rounded size) -> blocks
  std::unordered_map<int, AllocatorStats> stats_;
};

}  // namespace megaswift::host::cuda
