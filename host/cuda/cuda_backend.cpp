#include "host/cuda/cuda_backend.hpp"

#include "host/core/allocator.hpp"
#include "host/core/device_copy.hpp"
#include "host/core/events.hpp"
#include "host/core/status.hpp"
#include "host/cuda/caching_allocator.hpp"
#include "host/cuda/event_timer.hpp"
#include "host/ops/cuda/cuda_table.hpp"

#include <cuda_runtime.h>

#include <string>

namespace megaswift::host::cuda {
namespace {

// Runs `f` with `device` current, restoring the caller's device after (plugins may keep their own).
template <class F>
cudaError_t on_device(int device, F&& f) {
  int previous = 0;
  cudaGetDevice(&previous);
  if (previous != device) {
    if (cudaError_t rc = cudaSetDevice(device); rc != cudaSuccess) return rc;
  }
  const cudaError_t rc = f();
  if (previous != device) cudaSetDevice(previous);
  return rc;
}

msw_status* cuda_error(const char* what, int device, cudaError_t rc) {
  cudaGetLastError();  // clear it so the next call does not report it again
  return status_new(MSW_STATUS_INTERNAL,
                    (std::string(what) + " on GPU " + std::to_string(device) + " failed: " + cudaGetErrorString(rc)).c_str());
}

msw_status* check_device(const char* what, msw_device device) {
  const int count = device_count();
  if (device.id >= 0 && device.id < count) return nullptr;
  return status_new(MSW_STATUS_INVALID_ARGUMENT, (std::string(what) + ": GPU " + std::to_string(device.id) +
                                                  " does not exist; " + std::to_string(count) +
                                                  " visible (CUDA_VISIBLE_DEVICES)")
                                                     .c_str());
}

msw_status* cuda_alloc(const msw_alloc_args& args, void** out) {
  if (args.alignment > 256)  // cudaMalloc guarantees 256 bytes
    return status_new(MSW_STATUS_INVALID_ARGUMENT, ("alloc: CUDA memory is 256-byte aligned; " +
                                                    std::to_string(args.alignment) + " was asked")
                                                       .c_str());
  if (msw_status* s = check_device("alloc", args.device)) return s;
  std::string error;
  void* p = device_allocator().allocate(args.device.id, args.bytes, args.stream,
                                        (args.flags & MSW_ALLOC_PERSISTENT) != 0, &error);
  if (!p) return status_new(MSW_STATUS_OUT_OF_MEMORY, ("alloc: " + error).c_str());
  if (args.flags & MSW_ALLOC_ZERO) {
    const cudaError_t rc = on_device(args.device.id, [&] {
      return cudaMemsetAsync(p, 0, args.bytes, static_cast<cudaStream_t>(args.stream));
    });
    if (rc != cudaSuccess) {
      device_allocator().release(args.device.id, p, args.stream);
      return cuda_error("alloc: zero-filling", args.device.id, rc);
    }
  }
  *out = p;
  return nullptr;
}

void cuda_free(const msw_free_args& args) { device_allocator().release(args.device.id, args.ptr, args.stream); }

// ---- events and streams ----

msw_status* cuda_event_create(msw_device device, void** handle) {
  if (msw_status* s = check_device("event_create", device)) return s;
  cudaEvent_t ev = nullptr;
  // No timing: events only order work, and timing-free events are cheaper to record and wait on.
  const cudaError_t rc = on_device(device.id, [&] { return cudaEventCreateWithFlags(&ev, cudaEventDisableTiming); });
  if (rc != cudaSuccess) return cuda_error("event_create: cudaEventCreateWithFlags", device.id, rc);
  *handle = ev;
  return nullptr;
}

void cuda_event_destroy(msw_device, void* handle) { cudaEventDestroy(static_cast<cudaEvent_t>(handle)); }

msw_status* cuda_event_record(msw_device device, void* handle, void* stream) {
  const cudaError_t rc = on_device(device.id, [&] {
    return cudaEventRecord(static_cast<cudaEvent_t>(handle), static_cast<cudaStream_t>(stream));
  });
  return rc == cudaSuccess ? nullptr : cuda_error("event_record: cudaEventRecord", device.id, rc);
}

msw_status* cuda_stream_wait_event(msw_device device, void* stream, void* handle) {
  const cudaError_t rc = cudaStreamWaitEvent(static_cast<cudaStream_t>(stream), static_cast<cudaEvent_t>(handle), 0);
  return rc == cudaSuccess ? nullptr : cuda_error("stream_wait_event: cudaStreamWaitEvent", device.id, rc);
}

msw_status* cuda_event_synchronize(msw_device device, void* handle) {
  const cudaError_t rc = cudaEventSynchronize(static_cast<cudaEvent_t>(handle));
  return rc == cudaSuccess ? nullptr : cuda_error("event_synchronize: cudaEventSynchronize", device.id, rc);
}

msw_status* cuda_stream_synchronize(msw_device device, void* stream) {
  if (msw_status* s = check_device("stream_synchronize", device)) return s;
  const cudaError_t rc = on_device(device.id, [&] { return cudaStreamSynchronize(static_cast<cudaStream_t>(stream)); });
  return rc == cudaSuccess ? nullptr : cuda_error("stream_synchronize: cudaStreamSynchronize", device.id, rc);
}

// ---- host <-> device copies ----

const char* cuda_to_device(const msw_device& device, void* dst, const void* src, size_t bytes, void* stream) {
  const cudaError_t rc = on_device(device.id, [&] {
    return cudaMemcpyAsync(dst, src, bytes, cudaMemcpyHostToDevice, static_cast<cudaStream_t>(stream));
  });
  if (rc == cudaSuccess) return nullptr;
  cudaGetLastError();
  return cudaGetErrorString(rc);
}

const char* cuda_to_host(const msw_device& device, void* dst, const void* src, size_t bytes, void* stream) {
  const cudaError_t rc = on_device(device.id, [&] {
    const cudaError_t copy = cudaMemcpyAsync(dst, src, bytes, cudaMemcpyDeviceToHost, static_cast<cudaStream_t>(stream));
    return copy != cudaSuccess ? copy : cudaStreamSynchronize(static_cast<cudaStream_t>(stream));
  });
  if (rc == cudaSuccess) return nullptr;
  cudaGetLastError();
  return cudaGetErrorString(rc);
}

}  // namespace

int device_count() {
  int n = 0;
  if (cudaGetDeviceCount(&n) != cudaSuccess) {
    cudaGetLastError();
    return 0;
  }
  return n;
}

CachingAllocator& device_allocator() {
  // Leaked on purpose: freeing CUDA memory during static destruction races the driver's own teardown.
  static auto* allocator = new CachingAllocator;
  return *allocator;
}

void register_cuda_backend() {
  register_device_allocator(MSW_DEVICE_CUDA, {cuda_alloc, cuda_free});
  register_stream_backend(MSW_DEVICE_CUDA, {cuda_event_create, cuda_event_destroy, cuda_event_record,
                                            cuda_stream_wait_event, cuda_event_synchronize, cuda_stream_synchronize});
  register_device_copy(MSW_DEVICE_CUDA, {cuda_to_device, cuda_to_host});
  ops::install_device_ops(MSW_DEVICE_CUDA, &ops::cuda_impl::cuda_op_table());
  register_event_timer();  // per-op timing marks, used only while the op profiler is on
}

}  // namespace megaswift::host::cuda
