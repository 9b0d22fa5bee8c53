// Events and stream synchronisation for plugins (msw_host_api.event_* and stream_synchronize).
//
// CPU work is synchronous, so a CPU event is a plain object that is always complete: recording it does
// nothing, waiting on it returns at once. Other devices are served by the backend that registers itself for
// their device type (the CUDA backend: cudaEvent_t and cudaStream_t); a device with none registered answers
// UNSUPPORTED naming it.
#pragma once

#include <megaswift/c/host.h>

// The object behind msw_event*: the device it belongs to and the backend's handle (a cudaEvent_t on CUDA,
// NULL on CPU).
struct msw_event {
  msw_device device;
  void* handle;
};

namespace megaswift::host {

// What a device backend provides. Every entry receives the device the event or stream belongs to.
struct StreamBackend {
  msw_status* (*event_create)(msw_device device, void** handle);
  void (*event_destroy)(msw_device device, void* handle);
  msw_status* (*event_record)(msw_device device, void* handle, void* stream);
  msw_status* (*stream_wait_event)(msw_device device, void* stream, void* handle);
  msw_status* (*event_synchronize)(msw_device device, void* handle);
  msw_status* (*stream_synchronize)(msw_device device, void* stream);
};

// Registers the backend for `device_type` (msw_device_type); replaces an earlier one.
void register_stream_backend(int32_t device_type, StreamBackend backend);

// The table's entries.
msw_status* event_create(msw_device device, msw_event** out);
void event_destroy(msw_event* event);
msw_status* event_record(msw_event* event, void* stream);
msw_status* stream_wait_event(void* stream, msw_event* event);
msw_status* event_synchronize(msw_event* event);
msw_status* stream_synchronize(msw_device device, void* stream);

}  // namespace megaswift::host
