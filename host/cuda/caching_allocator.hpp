// A caching allocator for CUDA device memory: freed blocks are kept per device, size class and stream and
// handed out again, because cudaMalloc/cudaFree synchronise the device and cost tens of microseconds each,
// which a training step that allocates activations every micro-batch cannot afford.
//
// Stream order (host.h): a block freed on stream s is handed out again only for work on the same stream s,
// where the stream's own order makes reuse safe without any synchronisation. Reuse across streams happens
// only after the cache has been given back to the driver (empty_cache, or the retry after an out-of-memory
// error), and cudaFree synchronises the device first. Persistent blocks (MSW_ALLOC_PERSISTENT: parameters,
// optimizer state) bypass the cache: they are cudaMalloc'ed and cudaFree'd directly.
#pragma once

#include <cstddef>
#include <cstdint>
#include <map>
#include <mutex>
#include <string>
#include <tuple>
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
  // releases the cache back to the driver). `stream` is the cudaStream_t the block is first used on.
  void* allocate(int device, size_t bytes, void* stream, bool persistent, std::string* error);
  // `stream` is the last stream that used the block: it is reused in that stream's order.
  void release(int device, void* ptr, void* stream);
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
    bool persistent;
  };
  using CacheKey = std::tuple<int, size_t, void*>;  // (device, rounded size, stream)
  void release_cached_locked(int device);

  mutable std::mutex mutex_;
  std::unordered_map<void*, Block> live_;
  std::map<CacheKey, std::vector<void*>> free_;
  std::unordered_map<int, AllocatorStats> stats_;
};

}  // namespace megaswift::host::cuda
