// host/core through the msw_host_api table a plugin receives: reading args by struct_size, required
// extension records, alloc/free (zero fill, alignment, unknown flags, unknown devices), CPU events that are
// always complete, CUDA events without a CUDA backend, and the registry of plugin-provided ops.
#include "host/core/args.hpp"
#include "host/core/custom_ops.hpp"
#include "host/core/host_api.hpp"

#include <doctest/doctest.h>

#include <atomic>
#include <cstdint>
#include <cstring>
#include <string>
#include <thread>
#include <vector>

using namespace megaswift::host;

namespace {

const msw_host_api& api() { return host_api(); }

// Frees the status and returns its code and message.
struct Result {
  int32_t code = MSW_STATUS_OK;
  std::string message;
};
Result take(msw_status* s) {
  Result r{api().status_code(s), api().status_message(s)};
  api().status_free(s);
  return r;
}

msw_alloc_args alloc_args(size_t bytes, uint32_t flags = 0, size_t alignment = 0) {
  msw_alloc_args a{};
  a.struct_size = sizeof a;
  a.device = {MSW_DEVICE_CPU, 0};
  a.bytes = bytes;
  a.alignment = alignment;
  a.flags = flags;
  return a;
}

void cpu_free(void* p) {
  msw_free_args f{};
  f.struct_size = sizeof f;
  f.device = {MSW_DEVICE_CPU, 0};
  f.ptr = p;
  api().free(&f);
}

msw_exec_ctx ctx_on(int32_t device_type) {
  msw_exec_ctx c{};
  c.struct_size = sizeof c;
  c.num_threads = 1;
  c.device = {device_type, 0};
  return c;
}

// A plugin op: its args struct starts with MSW_ARGS_HEADER, as host.h asks.
struct TwiceArgs {
  MSW_ARGS_HEADER;
  const float* in;
  float* out;
  int64_t n;
};
msw_status* twice(const msw_exec_ctx*, const void* args) {
  const auto* a = static_cast<const TwiceArgs*>(args);
  for (int64_t i = 0; i < a->n; ++i) a->out[i] = 2.0f * a->in[i];
  return nullptr;
}
msw_status* other(const msw_exec_ctx*, const void*) { return nullptr; }

msw_custom_op op_record(const char* name, int32_t device_type, msw_custom_op_fn fn, const char* summary = nullptr) {
  msw_custom_op op{};
  op.struct_size = sizeof op;
  op.device_type = device_type;
  op.name = name;
  op.summary = summary;
  op.fn = fn;
  return op;
}

}  // namespace

TEST_CASE("the host table reports the ABI version of the headers and fills every 2.1 entry") {
  CHECK(api().abi_major == MSW_ABI_MAJOR);
  CHECK(api().abi_minor == MSW_ABI_MINOR);
  CHECK(api().struct_size == sizeof(msw_host_api));
  CHECK((api().event_create != nullptr));
  CHECK((api().stream_synchronize != nullptr));
  CHECK((api().register_op != nullptr));
  CHECK((api().find_op != nullptr));
  CHECK((api().call_op != nullptr));
}

TEST_CASE("args are read within the caller's struct_size and the rest is zero") {
  struct Args {
    MSW_ARGS_HEADER;
    int64_t required;
    int64_t optional;  // appended in a later minor
  };
  Args caller{};
  caller.struct_size = static_cast<uint32_t>(offsetof(Args, optional));  // an older caller
  caller.required = 7;
  caller.optional = 99;  // bytes past its struct_size: not its own, never read
  Args full{};
  REQUIRE_FALSE(read_args(&caller, MSW_SIZE_THROUGH(Args, required), "required", &full));
  CHECK(full.required == 7);
  CHECK(full.optional == 0);

  caller.struct_size = 8;
  ArgsError e = read_args(&caller, MSW_SIZE_THROUGH(Args, required), "required", &full);
  CHECK(e.code == MSW_STATUS_INVALID_ARGUMENT);
  CHECK(e.message.find("args->struct_size 8 is smaller than 24") != std::string::npos);
  CHECK(e.message.find("`required`") != std::string::npos);
  CHECK(read_args<Args>(nullptr, 0, "required", &full).message == "args is NULL");
}

TEST_CASE("an unknown extension record is ignored unless it is marked required") {
  msw_ext optional{sizeof(msw_ext), 0x1234, nullptr};
  CHECK_FALSE(check_extensions(&optional));
  msw_ext required{sizeof(msw_ext), static_cast<int32_t>(0x42 | MSW_EXT_REQUIRED), nullptr};
  optional.next = &required;
  ArgsError e = check_extensions(&optional);
  CHECK(e.code == MSW_STATUS_UNSUPPORTED);
  CHECK(e.message.find("0x80000042") != std::string::npos);
  CHECK(e.message.find("type 66") != std::string::npos);
  msw_ext loop{sizeof(msw_ext), 1, nullptr};
  loop.next = &loop;
  CHECK(check_extensions(&loop).code == MSW_STATUS_INVALID_ARGUMENT);
}

TEST_CASE("alloc with MSW_ALLOC_ZERO gives zero-filled memory, aligned as asked") {
  // Dirty the heap first so a zero fill is not an accident of fresh pages.
  for (int round = 0; round < 4; ++round) {
    void* dirty = nullptr;
    const msw_alloc_args d = alloc_args(1 << 16);
    REQUIRE(api().alloc(&d, &dirty) == nullptr);
    std::memset(dirty, 0xab, 1 << 16);
    cpu_free(dirty);
    void* p = nullptr;
    const msw_alloc_args a = alloc_args(1 << 16, MSW_ALLOC_ZERO, 4096);
    REQUIRE(api().alloc(&a, &p) == nullptr);
    CHECK(reinterpret_cast<uintptr_t>(p) % 4096 == 0);
    const auto* bytes = static_cast<const unsigned char*>(p);
    bool all_zero = true;
    for (int i = 0; i < (1 << 16); ++i) all_zero = all_zero && bytes[i] == 0;
    CHECK(all_zero);
    cpu_free(p);
  }
  void* p = nullptr;
  const msw_alloc_args a = alloc_args(100);
  REQUIRE(api().alloc(&a, &p) == nullptr);
  CHECK(reinterpret_cast<uintptr_t>(p) % 256 == 0);  // alignment 0 means 256
  cpu_free(p);
  const msw_alloc_args zero = alloc_args(0);
  p = &p;
  REQUIRE(api().alloc(&zero, &p) == nullptr);
  CHECK(p == nullptr);
  cpu_free(nullptr);
}

TEST_CASE("alloc refuses a bad alignment, unknown flags, a short struct and a device without a backend") {
  void* p = nullptr;
  msw_alloc_args a = alloc_args(64, 0, 48);
  Result r = take(api().alloc(&a, &p));
  CHECK(r.code == MSW_STATUS_INVALID_ARGUMENT);
  CHECK(r.message.find("alignment 48 is not a power of two") != std::string::npos);
  a = alloc_args(64, 0x10);
  r = take(api().alloc(&a, &p));
  CHECK(r.code == MSW_STATUS_UNSUPPORTED);
  CHECK(r.message.find("unknown flag bits 0x10") != std::string::npos);
  a = alloc_args(64);
  a.struct_size = 16;
  CHECK(take(api().alloc(&a, &p)).code == MSW_STATUS_INVALID_ARGUMENT);
  a = alloc_args(64);
  a.device = {MSW_DEVICE_CUDA, 0};  // this test links no CUDA backend
  r = take(api().alloc(&a, &p));
  CHECK(r.code == MSW_STATUS_UNSUPPORTED);
  CHECK(r.message.find("no backend for device type 2") != std::string::npos);
}

TEST_CASE("CPU events are complete at once and CUDA events need the CUDA backend") {
  msw_event* ev = nullptr;
  REQUIRE(api().event_create({MSW_DEVICE_CPU, 0}, &ev) == nullptr);
  CHECK(api().event_record(ev, nullptr) == nullptr);
  CHECK(api().stream_wait_event(nullptr, ev) == nullptr);
  CHECK(api().event_synchronize(ev) == nullptr);
  CHECK(api().stream_synchronize({MSW_DEVICE_CPU, 0}, nullptr) == nullptr);
  api().event_destroy(ev);
  api().event_destroy(nullptr);
  CHECK(take(api().event_record(nullptr, nullptr)).code == MSW_STATUS_INVALID_ARGUMENT);

  Result r = take(api().event_create({MSW_DEVICE_CUDA, 0}, &ev));
  CHECK(r.code == MSW_STATUS_UNSUPPORTED);
  CHECK(r.message.find("no events or streams on CUDA") != std::string::npos);
  r = take(api().stream_synchronize({MSW_DEVICE_CUDA, 0}, nullptr));
  CHECK(r.code == MSW_STATUS_UNSUPPORTED);
}

TEST_CASE("a registered plugin op is found by name and device and called through call_op") {
  const msw_custom_op op = op_record("test.twice", MSW_DEVICE_CPU, twice, "y = 2x");
  REQUIRE(api().register_op(&op) == nullptr);
  CHECK((api().find_op("test.twice", MSW_DEVICE_CPU) == twice));
  CHECK((api().find_op("test.twice", MSW_DEVICE_CUDA) == nullptr));
  CHECK((api().find_op("test.thrice", MSW_DEVICE_CPU) == nullptr));
  std::vector<float> in = {1, 2, 3}, out(3);
  TwiceArgs args{};
  args.struct_size = sizeof args;
  args.in = in.data();
  args.out = out.data();
  args.n = 3;
  const msw_exec_ctx cpu = ctx_on(MSW_DEVICE_CPU);
  REQUIRE(api().call_op("test.twice", &cpu, &args) == nullptr);
  CHECK(out == std::vector<float>{2, 4, 6});
  bool listed = false;
  for (const CustomOpInfo& info : registered_ops()) listed = listed || (info.name == "test.twice" && info.summary == "y = 2x");
  CHECK(listed);
}

TEST_CASE("call_op of an op missing on the context's device is NOT_FOUND naming the op and the device") {
  const msw_custom_op op = op_record("test.cpu_only", MSW_DEVICE_CPU, other);
  REQUIRE(api().register_op(&op) == nullptr);
  const msw_exec_ctx gpu = ctx_on(MSW_DEVICE_CUDA);
  Result r = take(api().call_op("test.cpu_only", &gpu, nullptr));
  CHECK(r.code == MSW_STATUS_NOT_FOUND);
  CHECK(r.message.find("no op \"test.cpu_only\" is registered for CUDA (it is registered for CPU)") != std::string::npos);
  const msw_exec_ctx cpu = ctx_on(MSW_DEVICE_CPU);
  r = take(api().call_op("test.nobody", &cpu, nullptr));
  CHECK(r.code == MSW_STATUS_NOT_FOUND);
  CHECK(r.message.find("\"test.nobody\" is registered for CPU") != std::string::npos);
}

TEST_CASE("a second registration of the same name and device is refused naming both; another device is fine") {
  const msw_custom_op first = op_record("test.dup", MSW_DEVICE_CPU, twice, "the first");
  const msw_custom_op second = op_record("test.dup", MSW_DEVICE_CPU, other, "the second");
  REQUIRE(api().register_op(&first) == nullptr);
  Result r = take(api().register_op(&second));
  CHECK(r.code == MSW_STATUS_INVALID_ARGUMENT);
  CHECK(r.message.find("\"test.dup\" for CPU is already registered (\"the first\")") != std::string::npos);
  CHECK(r.message.find("the second registration (\"the second\") is refused") != std::string::npos);
  CHECK((api().find_op("test.dup", MSW_DEVICE_CPU) == twice));
  const msw_custom_op gpu = op_record("test.dup", MSW_DEVICE_CUDA, other);
  CHECK(api().register_op(&gpu) == nullptr);
  CHECK((api().find_op("test.dup", MSW_DEVICE_CUDA) == other));
}

TEST_CASE("register_op validates the name, the device type, the function and the record size") {
  for (const char* bad : {"Gemma.geglu", "gemma geglu", "", "gemma-geglu", "gemma/geglu"}) {
    CAPTURE(bad);
    const msw_custom_op op = op_record(bad, MSW_DEVICE_CPU, other);
    Result r = take(api().register_op(&op));
    CHECK(r.code == MSW_STATUS_INVALID_ARGUMENT);
    CHECK(r.message.find("is not valid: use lower-case letters, digits, '_' and '.'") != std::string::npos);
  }
  msw_custom_op op = op_record(nullptr, MSW_DEVICE_CPU, other);
  CHECK(take(api().register_op(&op)).code == MSW_STATUS_INVALID_ARGUMENT);
  op = op_record("test.device", 9, other);
  CHECK(take(api().register_op(&op)).message.find("device type 9") != std::string::npos);
  op = op_record("test.nofn", MSW_DEVICE_CPU, nullptr);
  CHECK(take(api().register_op(&op)).message.find("fn is NULL") != std::string::npos);
  op = op_record("test.short", MSW_DEVICE_CPU, other);
  op.struct_size = 8;
  CHECK(take(api().register_op(&op)).message.find("struct_size 8") != std::string::npos);
  CHECK(take(api().register_op(nullptr)).code == MSW_STATUS_INVALID_ARGUMENT);
}

TEST_CASE("the op registry takes concurrent registrations and lookups from many threads") {
  std::vector<std::thread> threads;
  std::atomic<int> failures{0};
  static std::vector<std::string> names;
  names.clear();
  for (int i = 0; i < 64; ++i) names.push_back("test.concurrent_" + std::to_string(i));
  for (int t = 0; t < 8; ++t) {
    threads.emplace_back([t, &failures] {
      for (int i = t; i < 64; i += 8) {
        const msw_custom_op op = op_record(names[i].c_str(), MSW_DEVICE_CPU, other);
        if (api().register_op(&op) != nullptr) ++failures;
        for (int j = 0; j < 64; ++j) (void)api().find_op(names[j].c_str(), MSW_DEVICE_CPU);
      }
    });
  }
  for (auto& th : threads) th.join();
  CHECK(failures == 0);
  for (const auto& n : names) CHECK((api().find_op(n.c_str(), MSW_DEVICE_CPU) == other));
}
