#include "host/ops/op_profiler.hpp"

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <iterator>
#include <mutex>
#include <string_view>
#include <unordered_map>

namespace megaswift::host::ops {
namespace {

bool env_enabled() {
  const char* v = std::getenv("MEGASWIFT_PROFILE_OPS");
  if (!v) return false;
  const std::string_view s(v);
  return s == "1" || s == "true" || s == "yes" || s == "on" || s == "TRUE" || s == "ON";
}

// A device call whose marks have not been read yet.
struct Pending {
  size_t op;  // index into State::totals
  int32_t device_type;
  void* start;
  void* stop;
};

struct Total {
  std::string_view op;
  int64_t calls = 0;
  double ms = 0;
};

struct State {
  std::mutex mutex;
  OpTimerBackend timers[8];  // by msw_device_type
  std::vector<Total> totals;
  std::unordered_map<std::string_view, size_t> index;  // op name -> totals
  std::vector<Pending> pending;
  // When pending reaches this many calls, the finished ones are read without waiting (a long profiled run does not
  // hold every event until the report); doubled when most are still running so the scans stay rare.
  size_t drain_at = 8192;
};

State& state() {
  static State* s = new State;  // leaked: marks may be released after static destruction began
  return *s;
}

const OpTimerBackend* timer_of(State& s, int32_t device_type) {
  if (device_type <= MSW_DEVICE_CPU || device_type >= static_cast<int32_t>(std::size(s.timers))) return nullptr;
  const OpTimerBackend& t = s.timers[device_type];
  return t.record && t.finished && t.elapsed_ms && t.release ? &t : nullptr;
}

size_t total_index_locked(State& s, const char* op) {
  const std::string_view name(op);
  auto [it, inserted] = s.index.try_emplace(name, s.totals.size());
  if (inserted) s.totals.push_back({name, 0, 0.0});
  return it->second;
}

// Reads one pending call (waiting for its stop mark) into its total and releases its marks.
void settle_locked(State& s, const Pending& p) {
  const OpTimerBackend& t = s.timers[p.device_type];
  const double ms = t.elapsed_ms(p.start, p.stop);
  Total& total = s.totals[p.op];
  ++total.calls;
  if (ms > 0) total.ms += ms;
  t.release(p.start);
  t.release(p.stop);
}

// Reads the pending calls that have finished; `wait`: all of them, waiting for the device.
void drain_locked(State& s, bool wait) {
  size_t kept = 0;
  for (size_t i = 0; i < s.pending.size(); ++i) {
    const Pending& p = s.pending[i];
    if (wait || s.timers[p.device_type].finished(p.stop))
      settle_locked(s, p);
    else
      s.pending[kept++] = p;
  }
  s.pending.resize(kept);
  s.drain_at = std::max<size_t>(8192, 2 * kept);
}

}  // namespace

namespace detail {
std::atomic<bool> g_op_profiling{env_enabled()};
}  // namespace detail

void register_op_timer(int32_t device_type, OpTimerBackend backend) {
  State& s = state();
  if (device_type <= MSW_DEVICE_CPU || device_type >= static_cast<int32_t>(std::size(s.timers))) return;
  std::lock_guard lock(s.mutex);
  s.timers[device_type] = backend;
}

void set_op_profiling(bool enabled) { detail::g_op_profiling.store(enabled, std::memory_order_relaxed); }

void OpTimer::begin(const char* op, const msw_device& device, void* stream) {
  device_ = device;
  stream_ = stream;
  if (device.type != MSW_DEVICE_CPU) {
    State& s = state();
    std::lock_guard lock(s.mutex);
    if (const OpTimerBackend* t = timer_of(s, device.type)) {
      start_mark_ = t->record(device, stream);
      if (!start_mark_) return;  // op_ stays NULL: this call is not timed
    }
  }
  op_ = op;
  t0_ = std::chrono::steady_clock::now();
}

void OpTimer::end() {
  if (!start_mark_) {
    const double ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0_).count();
    State& s = state();
    std::lock_guard lock(s.mutex);
    Total& total = s.totals[total_index_locked(s, op_)];
    ++total.calls;
    total.ms += ms;
    return;
  }
  State& s = state();
  std::lock_guard lock(s.mutex);
  const OpTimerBackend* t = timer_of(s, device_.type);
  void* stop = t ? t->record(device_, stream_) : nullptr;
  if (!stop) {
    if (t) t->release(start_mark_);
    return;
  }
  s.pending.push_back({total_index_locked(s, op_), device_.type, start_mark_, stop});
  if (s.pending.size() >= s.drain_at) drain_locked(s, false);
}

std::vector<OpProfileRow> op_profile() {
  State& s = state();
  std::lock_guard lock(s.mutex);
  drain_locked(s, true);
  double sum = 0;
  for (const Total& t : s.totals) sum += t.ms;
  std::vector<OpProfileRow> rows;
  for (const Total& t : s.totals) {
    if (t.calls == 0) continue;
    rows.push_back({std::string(t.op), t.calls, t.ms, sum > 0 ? t.ms / sum : 0.0});
  }
  std::sort(rows.begin(), rows.end(), [](const OpProfileRow& a, const OpProfileRow& b) {
    return a.total_ms != b.total_ms ? a.total_ms > b.total_ms : a.op < b.op;
  });
  return rows;
}

void reset_op_profile() {
  State& s = state();
  std::lock_guard lock(s.mutex);
  for (const Pending& p : s.pending) {
    s.timers[p.device_type].release(p.start);
    s.timers[p.device_type].release(p.stop);
  }
  s.pending.clear();
  s.drain_at = 8192;
  for (Total& t : s.totals) t.calls = 0, t.ms = 0;
}

std::string format_op_profile(const std::vector<OpProfileRow>& rows, int64_t steps) {
  std::string out;
  char line[256];
  std::snprintf(line, sizeof line, "%-28s %10s %12s %12s %8s%s\n", "op", "calls", "total ms", "ms/call", "share",
                steps > 0 ? "      ms/step" : "");
  out += line;
  double sum_ms = 0;
  int64_t sum_calls = 0;
  for (const OpProfileRow& r : rows) {
    sum_ms += r.total_ms;
    sum_calls += r.calls;
    std::snprintf(line, sizeof line, "%-28s %10lld %12.3f %12.4f %7.2f%%", r.op.c_str(), static_cast<long long>(r.calls),
                  r.total_ms, r.calls ? r.total_ms / static_cast<double>(r.calls) : 0.0, 100.0 * r.share);
    out += line;
    if (steps > 0) {
      std::snprintf(line, sizeof line, " %12.3f", r.total_ms / static_cast<double>(steps));
      out += line;
    }
    out += '\n';
  }
  std::snprintf(line, sizeof line, "%-28s %10lld %12.3f %12s %7.2f%%", "total", static_cast<long long>(sum_calls), sum_ms,
                "", rows.empty() ? 0.0 : 100.0);
  out += line;
  if (steps > 0) {
    std::snprintf(line, sizeof line, " %12.3f", sum_ms / static_cast<double>(steps));
    out += line;
  }
  out += '\n';
  return out;
}

}  // namespace megaswift::host::ops
