// Device memory for plugins (msw_host_api.alloc/free). CPU memory is aligned blocks from the C heap; other
// devices are served by the allocator their backend registers (the CUDA backend registers a stream-ordered
// caching allocator), so nothing above this file assumes a CPU.
//
// device_alloc/device_free are the table's entries: they read the args through the caller's struct_size
// (host/core/args.hpp), default the alignment to 256, check it is a power of two, refuse unknown flag bits,
// and hand a full-size copy to the backend, which honours MSW_ALLOC_ZERO (in stream order) and the stream.
#pragma once

#include <megaswift/c/host.h>

namespace megaswift::host {

struct DeviceAllocator {
  // `args` is a full-size copy with alignment already defaulted and bytes > 0; same contract as
  // msw_host_api.alloc/free otherwise.
  msw_status* (*alloc)(const msw_alloc_args& args, void** out);
  void (*free)(const msw_free_args& args);
};

// Registers the allocator for `device_type` (msw_device_type); replaces an earlier one.
void register_device_allocator(int32_t device_type, DeviceAllocator allocator);

msw_status* device_alloc(const msw_alloc_args* args, void** out);
void device_free(const msw_free_args* args);

}  // namespace megaswift::host
