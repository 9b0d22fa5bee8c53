#include "host/core/device_copy.hpp"

#include "host/core/status.hpp"

#include <cstring>
#include <iterator>
#include <string>

namespace megaswift::host {
namespace {

DeviceCopyBackend g_backends[8];

const DeviceCopyBackend& backend_of(const msw_device& device, const char* what) {
  if (device.type > MSW_DEVICE_CPU && device.type < static_cast<int32_t>(std::size(g_backends)) &&
      g_backends[device.type].to_device && g_backends[device.type].to_host)
    return g_backends[device.type];
  throw HostError(MSW_STATUS_UNSUPPORTED, std::string(what) + ": no copy backend for device type " +
                                              std::to_string(device.type) + " (its backend was not started)");
}

}  // namespace

void register_device_copy(int32_t device_type, DeviceCopyBackend backend) {
  if (device_type <= MSW_DEVICE_CPU || device_type >= static_cast<int32_t>(std::size(g_backends)))
    throw HostError(MSW_STATUS_INVALID_ARGUMENT, "register_device_copy: device type " + std::to_string(device_type));
  g_backends[device_type] = backend;
}

void copy_to_device(const msw_device& device, void* dst, const void* src, size_t bytes, void* stream, const char* what) {
  if (bytes == 0) return;
  if (device.type == MSW_DEVICE_CPU) {
    std::memcpy(dst, src, bytes);
    return;
  }
  if (const char* error = backend_of(device, what).to_device(device, dst, src, bytes, stream))
    throw HostError(MSW_STATUS_INTERNAL, std::string(what) + ": copying " + std::to_string(bytes) +
                                             " bytes to the device failed: " + error);
}

void copy_to_host(const msw_device& device, void* dst, const void* src, size_t bytes, void* stream, const char* what) {
  if (bytes == 0) return;
  if (device.type == MSW_DEVICE_CPU) {
    std::memcpy(dst, src, bytes);
    return;
  }
  if (const char* error = backend_of(device, what).to_host(device, dst, src, bytes, stream))
    throw HostError(MSW_STATUS_INTERNAL, std::string(what) + ": copying " + std::to_string(bytes) +
                                             " bytes from the device failed: " + error);
}

}  // namespace megaswift::host
