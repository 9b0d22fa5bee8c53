// Device memory for plugins (msw_host_api.alloc/free). CPU memory is 64-byte-or-more aligned blocks;
// other devices are served by the allocator their backend registers (the CUDA backend registers a
// caching allocator), so nothing above this file assumes a CPU.
#pragma once

#include <megaswift/c/host.h>

namespace megaswift::host {

struct DeviceAllocator {
  // Same contract as msw_host_api.alloc/free for one device type.
  msw_status* (*alloc)(msw_device device, size_t bytes, size_t alignment, void** out);
  void (*free)(msw_device device, void* ptr);
};

// Registers the allocator for `device_type` (msw_device_type); replaces an earlier one.
void register_device_allocator(int32_t device_type, DeviceAllocator allocator);

msw_status* device_alloc(msw_device device, size_t bytes, size_t alignment, void** out);
void device_free(msw_device device, void* ptr);

}  // namespace megaswift::host
