// Registers the CUDA parts of the host: device memory (a stream-ordered caching allocator) and events and
// stream synchronisation (cudaEvent_t, cudaStream_t) behind msw_host_api; kernels follow as they land.
#pragma once

namespace megaswift::host::cuda {

class CachingAllocator;

// Number of visible CUDA devices; 0 when there is no driver or no GPU (never throws).
int device_count();

// Makes msw_host_api.alloc/free, the event/stream entries and the ops table serve MSW_DEVICE_CUDA.
void register_cuda_backend();

CachingAllocator& device_allocator();

}  // namespace megaswift::host::cuda
