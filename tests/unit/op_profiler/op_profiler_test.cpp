// The op profiler without a GPU: CPU calls through the ops table are counted and timed per op name; a fake device
// timer stands in for CUDA events, so the pending-mark path (recorded at the call, read at report time, drained
// when many are pending, released on reset) runs here too.
#include "host/ops/op_profiler.hpp"
#include "host/core/host_api.hpp"
#include "host/ops/ops_api.hpp"

#include <doctest/doctest.h>

#include <chrono>
#include <cmath>
#include <string>
#include <vector>

using namespace megaswift::host;

namespace {

msw_exec_ctx cpu_ctx() {
  msw_exec_ctx c{};
  c.struct_size = sizeof c;
  c.num_threads = 1;
  c.device = {MSW_DEVICE_CPU, 0};
  return c;
}

msw_tensor f32_vector(std::vector<float>& v) {
  msw_tensor t{};
  t.data = v.data();
  t.device = {MSW_DEVICE_CPU, 0};
  t.dtype = MSW_DTYPE_F32;
  t.ndim = 1;
  t.shape[0] = static_cast<int64_t>(v.size());
  t.strides[0] = 1;
  return t;
}

void fill(std::vector<float>& v, double value) {
  const msw_exec_ctx ctx = cpu_ctx();
  msw_fill_args a{};
  a.struct_size = sizeof a;
  a.out = f32_vector(v);
  a.value = value;
  REQUIRE(ops_api().fill(&ctx, &a) == nullptr);
}

void scale(std::vector<float>& v, double s) {
  const msw_exec_ctx ctx = cpu_ctx();
  msw_scale_args a{};
  a.struct_size = sizeof a;
  a.x = f32_vector(v);
  a.s = s;
  REQUIRE(ops_api().scale(&ctx, &a) == nullptr);
}

const ops::OpProfileRow* row_of(const std::vector<ops::OpProfileRow>& rows, const std::string& op) {
  for (const auto& r : rows)
    if (r.op == op) return &r;
  return nullptr;
}

// Restores "disabled, empty" whatever a case did.
struct ProfilerScope {
  explicit ProfilerScope(bool enabled) {
    ops::reset_op_profile();
    ops::set_op_profiling(enabled);
  }
  ~ProfilerScope() {
    ops::set_op_profiling(false);
    ops::reset_op_profile();
  }
};

// A device whose "events" carry a fake clock: each mark records the clock, which advances by `tick_ms` per
// record, so a call's time is known exactly. `done` says whether marks count as finished.
constexpr int32_t kFakeDevice = 7;  // a device type slot no backend uses
struct FakeMark {
  double t;
};
struct FakeClock {
  double now = 0, tick_ms = 0.5;
  bool done = false, fail_record = false;
  int outstanding = 0, elapsed_calls = 0;
};
FakeClock g_clock;

void register_fake_timer() {
  ops::OpTimerBackend b;
  b.record = [](const msw_device&, void*) -> void* {
    if (g_clock.fail_record) return nullptr;
    ++g_clock.outstanding;
    auto* m = new FakeMark{g_clock.now};
    g_clock.now += g_clock.tick_ms;
    return m;
  };
  b.finished = [](void*) { return g_clock.done; };
  b.elapsed_ms = [](void* a, void* b) {
    ++g_clock.elapsed_calls;
    return static_cast<FakeMark*>(b)->t - static_cast<FakeMark*>(a)->t;
  };
  b.release = [](void* m) {
    --g_clock.outstanding;
    delete static_cast<FakeMark*>(m);
  };
  ops::register_op_timer(kFakeDevice, b);
}

}  // namespace

TEST_CASE("disabled: op calls leave no profile") {
  ProfilerScope scope(false);
  std::vector<float> v(64);
  for (int i = 0; i < 10; ++i) fill(v, 1.0);
  CHECK(ops::op_profile().empty());
}

TEST_CASE("enabled on the CPU: calls and wall time are summed per op name, slowest first, shares sum to one") {
  ProfilerScope scope(true);
  std::vector<float> small(16), large(1 << 20);
  for (int i = 0; i < 5; ++i) fill(small, 2.0);
  for (int i = 0; i < 3; ++i) scale(large, 0.5);  // a million elements: slower than the small fills
  const auto rows = ops::op_profile();
  REQUIRE(rows.size() == 2);
  const auto* f = row_of(rows, "fill");
  const auto* s = row_of(rows, "scale");
  REQUIRE(f);
  REQUIRE(s);
  CHECK(f->calls == 5);
  CHECK(s->calls == 3);
  CHECK(f->total_ms >= 0);
  CHECK(s->total_ms > 0);
  CHECK(rows.front().total_ms >= rows.back().total_ms);
  CHECK(f->share + s->share == doctest::Approx(1.0));
  const std::string table = ops::format_op_profile(rows, 2);
  CHECK(table.find("fill") != std::string::npos);
  CHECK(table.find("scale") != std::string::npos);
  CHECK(table.find("ms/step") != std::string::npos);
  CHECK(table.find("total") != std::string::npos);

  ops::reset_op_profile();
  CHECK(ops::op_profile().empty());
  fill(small, 1.0);
  REQUIRE(ops::op_profile().size() == 1);
  CHECK(ops::op_profile().front().calls == 1);  // reading the profile does not clear it
}

TEST_CASE("a failing op call is still counted once (the timer closes on the error path)") {
  ProfilerScope scope(true);
  const msw_exec_ctx ctx = cpu_ctx();
  msw_fill_args a{};
  a.struct_size = sizeof a;  // out has no data: the CPU check refuses it
  msw_status* st = ops_api().fill(&ctx, &a);
  const bool failed = st != nullptr;
  CHECK(failed);
  host_api().status_free(st);
  // The CPU op refuses the tensor inside the timed call: the OpTimer closes on the exception's way out.
  const auto rows = ops::op_profile();
  REQUIRE(rows.size() == 1);
  CHECK(rows.front().op == "fill");
  CHECK(rows.front().calls == 1);
}

TEST_CASE("device marks: recorded at the call, read at report time, released after") {
  register_fake_timer();
  g_clock = FakeClock{};
  ProfilerScope scope(true);
  const msw_device dev{kFakeDevice, 0};
  for (int i = 0; i < 4; ++i) {
    ops::OpTimer t("gemm", dev, nullptr);  // start mark at now, stop mark one tick later
  }
  {
    ops::OpTimer t("rmsnorm_forward", dev, nullptr);
  }
  CHECK(g_clock.outstanding == 10);  // nothing read yet: no waiting inside a step
  CHECK(g_clock.elapsed_calls == 0);
  const auto rows = ops::op_profile();  // waits for (here: reads) every pending mark
  CHECK(g_clock.outstanding == 0);
  REQUIRE(rows.size() == 2);
  CHECK(rows[0].op == "gemm");
  CHECK(rows[0].calls == 4);
  CHECK(rows[0].total_ms == doctest::Approx(4 * 0.5));
  CHECK(rows[1].calls == 1);
  CHECK(rows[1].total_ms == doctest::Approx(0.5));
  CHECK(rows[0].share == doctest::Approx(0.8));
}

TEST_CASE("device marks: finished ones are drained while many are pending, and reset releases the rest unread") {
  register_fake_timer();
  g_clock = FakeClock{};
  ProfilerScope scope(true);
  const msw_device dev{kFakeDevice, 0};
  g_clock.done = false;
  for (int i = 0; i < 9000; ++i) ops::OpTimer t("add", dev, nullptr);
  CHECK(g_clock.outstanding == 18000);  // none finished: all still pending
  CHECK(g_clock.elapsed_calls == 0);
  g_clock.done = true;
  for (int i = 0; i < 20000; ++i) ops::OpTimer t("add", dev, nullptr);
  CHECK(g_clock.outstanding < 2 * 20000);  // drained on the way
  CHECK(g_clock.elapsed_calls > 0);
  const auto rows = ops::op_profile();
  REQUIRE(rows.size() == 1);
  CHECK(rows[0].calls == 29000);
  CHECK(rows[0].total_ms == doctest::Approx(29000 * 0.5));
  CHECK(g_clock.outstanding == 0);

  g_clock.done = false;
  for (int i = 0; i < 10; ++i) ops::OpTimer t("add", dev, nullptr);
  CHECK(g_clock.outstanding == 20);
  ops::reset_op_profile();
  CHECK(g_clock.outstanding == 0);
  CHECK(ops::op_profile().empty());
}

TEST_CASE("device marks: a mark that cannot be recorded leaves the call untimed, not half-counted") {
  register_fake_timer();
  g_clock = FakeClock{};
  ProfilerScope scope(true);
  g_clock.fail_record = true;
  { ops::OpTimer t("gemm", msw_device{kFakeDevice, 0}, nullptr); }
  CHECK(ops::op_profile().empty());
  CHECK(g_clock.outstanding == 0);
}

TEST_CASE("cost per op call: disabled vs enabled (reported, not asserted: timings depend on the machine)") {
  std::vector<float> v(8);
  const msw_exec_ctx ctx = cpu_ctx();
  msw_fill_args a{};
  a.struct_size = sizeof a;
  a.out = f32_vector(v);
  a.value = 1.0;
  constexpr int kCalls = 200000;
  int failures = 0;
  auto time_calls = [&] {
    const auto t0 = std::chrono::steady_clock::now();
    for (int i = 0; i < kCalls; ++i) failures += ops_api().fill(&ctx, &a) != nullptr;
    return std::chrono::duration<double, std::nano>(std::chrono::steady_clock::now() - t0).count() / kCalls;
  };
  double off = 0, on = 0, bare = 0;
  {
    ProfilerScope scope(false);
    time_calls();  // warm
    off = time_calls();
    CHECK(ops::op_profile().empty());
    // The hook alone, disabled: what every op call pays when nobody profiles.
    constexpr int kTimers = 10000000;
    const msw_device cpu{MSW_DEVICE_CPU, 0};
    const auto t0 = std::chrono::steady_clock::now();
    for (int i = 0; i < kTimers; ++i) {
      ops::OpTimer t("fill", cpu, nullptr);
      asm volatile("" ::: "memory");  // keep the loop (and the flag's load) from being folded away
    }
    bare = std::chrono::duration<double, std::nano>(std::chrono::steady_clock::now() - t0).count() / kTimers;
    CHECK(ops::op_profile().empty());
  }
  {
    ProfilerScope scope(true);
    on = time_calls();
    REQUIRE(ops::op_profile().size() == 1);
    CHECK(ops::op_profile().front().calls == kCalls);
  }
  CHECK(failures == 0);
  MESSAGE("fill of 8 floats through the ops table: " << off << " ns/call with the profiler off, " << on
                                                    << " ns/call with it on; the disabled hook alone: " << bare
                                                    << " ns");
}
