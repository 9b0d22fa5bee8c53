// Per-op timing of the ops table (MEGASWIFT_PROFILE_OPS=1, or set_op_profiling(true)): every call that goes
// through the table's dispatch is bracketed, and the times are summed per op name.
//
// On the CPU an op is synchronous, so its time is the wall time of the call. On a device the call only queues
// work on ctx.stream; its time is measured on the stream by two timing marks (CUDA events) recorded before and
// after the launch, read back only when the profile is asked for (op_profile()), so a profiled step does not
// synchronise more than an unprofiled one. Marks are pooled by the backend. A device's marks come from the timer
// its backend registers (register_op_timer; the CUDA backend registers cudaEvent-based marks in
// host/cuda/event_timer.cpp), which keeps this file free of device headers. A device with no timer registered
// falls back to host wall time of the call (the launch, not the kernel).
//
// What a device time means: the stream's time from the start mark to the stop mark, which includes any time
// the stream sat idle waiting for the host to launch the op's kernels. When the host is the bottleneck
// (launch-bound small ops) the per-op times therefore add up to the step time and say where the host was slow;
// when the GPU is the bottleneck they are the kernels' time.
//
// Disabled (the default), the cost per op call is one relaxed atomic load and one branch.
#pragma once

#include <megaswift/c/tensor.h>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <string>
#include <vector>

namespace megaswift::host::ops {

// Timing marks on a device's stream, provided by the device backend.
struct OpTimerBackend {
  // Records a mark on `stream` of `device` now (in the stream's order) and returns its handle; NULL when the
  // mark cannot be recorded (the call then goes untimed).
  void* (*record)(const msw_device& device, void* stream) = nullptr;
  // Whether the work before the mark has run (never waits).
  bool (*finished)(void* mark) = nullptr;
  // Milliseconds from `start` to `stop` on the device; waits for `stop`. Negative when it cannot be measured.
  double (*elapsed_ms)(void* start, void* stop) = nullptr;
  // Gives the mark back to the backend's pool.
  void (*release)(void* mark) = nullptr;
};

// Registers the timer of `device_type` (msw_device_type other than the CPU); replaces an earlier one.
void register_op_timer(int32_t device_type, OpTimerBackend backend);

namespace detail {
extern std::atomic<bool> g_op_profiling;  // starts as MEGASWIFT_PROFILE_OPS says (1/true/yes/on: enabled)
}  // namespace detail

inline bool op_profiling_enabled() { return detail::g_op_profiling.load(std::memory_order_relaxed); }
void set_op_profiling(bool enabled);

struct OpProfileRow {
  std::string op;
  int64_t calls = 0;
  double total_ms = 0;
  double share = 0;  // of the sum over all ops, 0..1
};

// The profile so far, slowest op first. Waits for the device marks still pending (call it after the timed work,
// not inside a step).
std::vector<OpProfileRow> op_profile();
// Forgets everything recorded so far (pending marks are released without being read).
void reset_op_profile();
// A plain-text table of `rows`: op, calls, total ms, ms per call, share; with `steps` > 0 also ms per step.
std::string format_op_profile(const std::vector<OpProfileRow>& rows, int64_t steps = 0);

// Brackets one op call: construct before the call, destroy after. `op` must be a string that lives as long as the
// program (the dispatch passes the op's name literal). Does nothing when profiling is disabled at construction.
class OpTimer {
 public:
  OpTimer(const char* op, const msw_device& device, void* stream) {
    if (op_profiling_enabled()) [[unlikely]]
      begin(op, device, stream);
  }
  ~OpTimer() {
    if (op_) [[unlikely]]
      end();
  }
  OpTimer(const OpTimer&) = delete;
  OpTimer& operator=(const OpTimer&) = delete;

 private:
  void begin(const char* op, const msw_device& device, void* stream);
  void end();

  const char* op_ = nullptr;
  msw_device device_{MSW_DEVICE_CPU, 0};
  void* stream_ = nullptr;
  void* start_mark_ = nullptr;  // device marks; NULL: timed on the host
  std::chrono::steady_clock::time_point t0_{};
};

}  // namespace megaswift::host::ops
