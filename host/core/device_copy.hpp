// Moving bytes between host memory and a device's memory: batches going up, loss scalars and checkpoint tensors
// coming down. The CPU's "device" is host memory (a memcpy); other device types are served by the backend that
// registers them (the CUDA backend: cudaMemcpyAsync on the given stream), so the model runner and the training
// engine never branch on the device.
#pragma once

#include <megaswift/c/tensor.h>

#include <cstddef>
#include <cstdint>

namespace megaswift::host {

struct DeviceCopyBackend {
  // Queued on `stream` (host memory may be reused when the call returns).
  const char* (*to_device)(const msw_device& device, void* dst, const void* src, size_t bytes, void* stream) = nullptr;
  // Returns once the bytes are in host memory (after the work already queued on `stream`).
  const char* (*to_host)(const msw_device& device, void* dst, const void* src, size_t bytes, void* stream) = nullptr;
};

// Registers the backend of `device_type` (msw_device_type); the entries return NULL or an error message.
void register_device_copy(int32_t device_type, DeviceCopyBackend backend);

// HostError (naming the device and what was copied) when the device type has no backend or the copy fails.
void copy_to_device(const msw_device& device, void* dst, const void* src, size_t bytes, void* stream, const char* what);
void copy_to_host(const msw_device& device, void* dst, const void* src, size_t bytes, void* stream, const char* what);

}  // namespace megaswift::host
