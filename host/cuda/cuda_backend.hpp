// Registers the CUDA parts of the host (device memory today; kernels and streams as they land).
#pragma once

namespace megaswift::host::cuda {

class CachingAllocator;

// Number of visible CUDA devices; 0 when there is no driver or no GPU (never throws).
int device_count();

// Makes msw_host_api.alloc/free serve MSW_DEVICE_CUDA through the process's caching allocator.
void register_cuda_backend();

CachingAllocator& device_allocator();

}  // namespace megaswift::host::cuda
