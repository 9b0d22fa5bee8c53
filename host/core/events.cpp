#include "host/core/events.hpp"

#include "host/core/status.hpp"

#include <array>
#include <mutex>
#include <new>
#include <string>

namespace megaswift::host {
namespace {

constexpr int32_t kMaxDeviceType = 16;
std::mutex g_mutex;
std::array<StreamBackend, kMaxDeviceType> g_backends{};

// The backend of a non-CPU device, or nothing (then `error` says why).
const StreamBackend* backend_for(msw_device device, const char* what, msw_status** error) {
  std::lock_guard lock(g_mutex);
  if (device.type >= 0 && device.type < kMaxDeviceType && g_backends[device.type].event_create)
    return &g_backends[device.type];
  const std::string name = device.type == MSW_DEVICE_CUDA        ? "CUDA"
                           : device.type == MSW_DEVICE_CUDA_HOST ? "CUDA pinned host memory"
                                                                 : "device type " + std::to_string(device.type);
  const std::string why = device.type == MSW_DEVICE_CUDA
                              ? "this Megaswift has no CUDA backend (built without CUDA, or it was not started)"
                          : device.type == MSW_DEVICE_CUDA_HOST
                              ? "work on pinned memory runs on a CUDA stream: use the CUDA device's events"
                              : "events exist for CPU and CUDA devices";
  *error = status_new(MSW_STATUS_UNSUPPORTED, (std::string(what) + ": no events or streams on " + name + ": " + why).c_str());
  return nullptr;
}

bool is_cpu(msw_device device) { return device.type == MSW_DEVICE_CPU; }

msw_status* null_event(const char* what) {
  return status_new(MSW_STATUS_INVALID_ARGUMENT, (std::string(what) + ": event is NULL").c_str());
}

}  // namespace

void register_stream_backend(int32_t device_type, StreamBackend backend) {
  std::lock_guard lock(g_mutex);
  if (device_type >= 0 && device_type < kMaxDeviceType) g_backends[device_type] = backend;
}

msw_status* event_create(msw_device device, msw_event** out) {
  if (!out) return status_new(MSW_STATUS_INVALID_ARGUMENT, "event_create: out is NULL");
  void* handle = nullptr;
  if (!is_cpu(device)) {
    msw_status* error = nullptr;
    const StreamBackend* b = backend_for(device, "event_create", &error);
    if (!b) return error;
    if (msw_status* s = b->event_create(device, &handle)) return s;
  }
  try {
    *out = new msw_event{device, handle};
  } catch (const std::bad_alloc&) {
    return status_new(MSW_STATUS_OUT_OF_MEMORY, "event_create: out of host memory");
  }
  return nullptr;
}

void event_destroy(msw_event* event) {
  if (!event) return;
  if (!is_cpu(event->device)) {
    msw_status* error = nullptr;
    if (const StreamBackend* b = backend_for(event->device, "event_destroy", &error)) b->event_destroy(event->device, event->handle);
    status_free(error);
  }
  delete event;
}

msw_status* event_record(msw_event* event, void* stream) {
  if (!event) return null_event("event_record");
  if (is_cpu(event->device)) return nullptr;  // CPU work is done when the call returns
  msw_status* error = nullptr;
  const StreamBackend* b = backend_for(event->device, "event_record", &error);
  return b ? b->event_record(event->device, event->handle, stream) : error;
}

msw_status* stream_wait_event(void* stream, msw_event* event) {
  if (!event) return null_event("stream_wait_event");
  if (is_cpu(event->device)) return nullptr;  // a CPU event is complete: nothing to wait for
  msw_status* error = nullptr;
  const StreamBackend* b = backend_for(event->device, "stream_wait_event", &error);
  return b ? b->stream_wait_event(event->device, stream, event->handle) : error;
}

msw_status* event_synchronize(msw_event* event) {
  if (!event) return null_event("event_synchronize");
  if (is_cpu(event->device)) return nullptr;
  msw_status* error = nullptr;
  const StreamBackend* b = backend_for(event->device, "event_synchronize", &error);
  return b ? b->event_synchronize(event->device, event->handle) : error;
}

msw_status* stream_synchronize(msw_device device, void* stream) {
  if (is_cpu(device)) return nullptr;
  msw_status* error = nullptr;
  const StreamBackend* b = backend_for(device, "stream_synchronize", &error);
  return b ? b->stream_synchronize(device, stream) : error;
}

}  // namespace megaswift::host
