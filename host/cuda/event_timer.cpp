// The CUDA side of the per-op profiler (host/ops/op_profiler.hpp): timing marks are cudaEvent_t with timing
// enabled (the backend's ordering events are created without it), recorded on the op's stream and read with
// cudaEventElapsedTime when the profile is reported. Events are pooled: a profiled training step records two per
// op call, and cudaEventCreate for each would cost more than the small ops it times.
#include "host/cuda/event_timer.hpp"

#include "host/ops/op_profiler.hpp"

#include <cuda_runtime.h>

#include <mutex>
#include <vector>

namespace megaswift::host::cuda {
namespace {

struct Mark {
  cudaEvent_t event = nullptr;
  int device = 0;
};

struct Pool {
  std::mutex mutex;
  std::vector<Mark*> free;
};

Pool& pool() {
  static Pool* p = new Pool;  // leaked: events outlive static destruction (the driver may be gone by then)
  return *p;
}

void* record(const msw_device& device, void* stream) {
  Mark* m = nullptr;
  {
    Pool& p = pool();
    std::lock_guard lock(p.mutex);
    for (size_t i = p.free.size(); i-- > 0;) {
      if (p.free[i]->device == device.id) {
        m = p.free[i];
        p.free.erase(p.free.begin() + static_cast<std::ptrdiff_t>(i));
        break;
      }
    }
  }
  int previous = 0;
  cudaGetDevice(&previous);
  if (previous != device.id) cudaSetDevice(device.id);
  cudaError_t rc = cudaSuccess;
  if (!m) {
    cudaEvent_t ev = nullptr;
    rc = cudaEventCreate(&ev);  // default flags: timing enabled
    if (rc == cudaSuccess) m = new Mark{ev, device.id};
  }
  if (m) rc = cudaEventRecord(m->event, static_cast<cudaStream_t>(stream));
  if (previous != device.id) cudaSetDevice(previous);
  if (rc != cudaSuccess) {
    cudaGetLastError();  // the profiler drops this call; the op's own errors must not be confused with it
    if (m) {
      Pool& p = pool();
      std::lock_guard lock(p.mutex);
      p.free.push_back(m);
    }
    return nullptr;
  }
  return m;
}

bool finished(void* mark) {
  const cudaError_t rc = cudaEventQuery(static_cast<Mark*>(mark)->event);
  // cudaErrorNotReady is not recorded as the thread's last error, so there is nothing to clear here (clearing could
  // hide a real launch error from the next op's check).
  if (rc == cudaErrorNotReady) return false;
  return true;  // done, or failed (elapsed_ms then reports the failure)
}

double elapsed_ms(void* start, void* stop) {
  const cudaEvent_t a = static_cast<Mark*>(start)->event, b = static_cast<Mark*>(stop)->event;
  float ms = 0;
  if (cudaEventSynchronize(b) != cudaSuccess || cudaEventElapsedTime(&ms, a, b) != cudaSuccess) {
    cudaGetLastError();
    return -1.0;
  }
  return static_cast<double>(ms);
}

void release(void* mark) {
  Pool& p = pool();
  std::lock_guard lock(p.mutex);
  p.free.push_back(static_cast<Mark*>(mark));
}

}  // namespace

void register_event_timer() {
  ops::OpTimerBackend backend;
  backend.record = record;
  backend.finished = finished;
  backend.elapsed_ms = elapsed_ms;
  backend.release = release;
  ops::register_op_timer(MSW_DEVICE_CUDA, backend);
}

}  // namespace megaswift::host::cuda
