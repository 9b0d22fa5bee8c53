#include "host/core/allocator.hpp"

#include "host/core/args.hpp"
#include "host/core/logging.hpp"
#include "host/core/status.hpp"

#include <array>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <mutex>
#include <string>

namespace megaswift::host {
namespace {

constexpr size_t kDefaultAlignment = 256;  // enough for AVX-512 loads and for cuBLAS on pinned memory
constexpr uint32_t kKnownFlags = MSW_ALLOC_ZERO | MSW_ALLOC_PERSISTENT;

// CPU work is synchronous, so the stream is irrelevant and zero-filling at once is "in stream order".
msw_status* cpu_alloc(const msw_alloc_args& args, void** out) {
  const size_t rounded = (args.bytes + args.alignment - 1) / args.alignment * args.alignment;  // aligned_alloc needs a multiple
  void* p = std::aligned_alloc(args.alignment, rounded);
  if (!p)
    return status_new(MSW_STATUS_OUT_OF_MEMORY,
                      ("alloc: could not allocate " + std::to_string(args.bytes) + " bytes of host memory").c_str());
  if (args.flags & MSW_ALLOC_ZERO) std::memset(p, 0, args.bytes);
  *out = p;
  return nullptr;
}

void cpu_free(const msw_free_args& args) { std::free(args.ptr); }

constexpr int32_t kMaxDeviceType = 16;
std::mutex g_mutex;
std::array<DeviceAllocator, kMaxDeviceType> g_allocators = [] {
  std::array<DeviceAllocator, kMaxDeviceType> a{};
  a[MSW_DEVICE_CPU] = {cpu_alloc, cpu_free};
  return a;
}();

DeviceAllocator lookup(int32_t type) {
  std::lock_guard lock(g_mutex);
  if (type < 0 || type >= kMaxDeviceType) return {};
  return g_allocators[type];
}

msw_status* refuse(int32_t code, const std::string& message) { return status_new(code, ("alloc: " + message).c_str()); }

}  // namespace

void register_device_allocator(int32_t device_type, DeviceAllocator allocator) {
  std::lock_guard lock(g_mutex);
  if (device_type >= 0 && device_type < kMaxDeviceType) g_allocators[device_type] = allocator;
}

msw_status* device_alloc(const msw_alloc_args* in, void** out) {
  if (!out) return refuse(MSW_STATUS_INVALID_ARGUMENT, "out is NULL");
  msw_alloc_args args{};
  if (ArgsError e = read_args(in, MSW_SIZE_THROUGH(msw_alloc_args, bytes), "bytes", &args))
    return refuse(e.code, e.message);
  if (ArgsError e = check_extensions(args.next)) return refuse(e.code, e.message);
  if (args.alignment == 0) args.alignment = kDefaultAlignment;
  if ((args.alignment & (args.alignment - 1)) != 0)
    return refuse(MSW_STATUS_INVALID_ARGUMENT, "alignment " + std::to_string(args.alignment) + " is not a power of two");
  if (args.flags & ~kKnownFlags)
    return refuse(MSW_STATUS_UNSUPPORTED, "unknown flag bits 0x" + [&] {
      char hex[16];
      std::snprintf(hex, sizeof hex, "%x", args.flags & ~kKnownFlags);
      return std::string(hex);
    }() + " (this host knows MSW_ALLOC_ZERO and MSW_ALLOC_PERSISTENT)");
  DeviceAllocator a = lookup(args.device.type);
  if (!a.alloc)
    return refuse(MSW_STATUS_UNSUPPORTED, "no backend for device type " + std::to_string(args.device.type) +
                                              " is built into this Megaswift (CPU is type 1, CUDA type 2)");
  if (args.bytes == 0) {
    *out = nullptr;
    return nullptr;
  }
  return a.alloc(args, out);
}

void device_free(const msw_free_args* in) {
  msw_free_args args{};
  if (ArgsError e = read_args(in, MSW_SIZE_THROUGH(msw_free_args, ptr), "ptr", &args)) {
    // free() has no status to return: a malformed call is reported and the memory is left alone.
    log_from_plugin(MSW_LOG_ERROR, "host", ("free: " + e.message + "; the memory was not freed").c_str());
    return;
  }
  if (!args.ptr) return;
  DeviceAllocator a = lookup(args.device.type);
  if (a.free) a.free(args);
}

}  // namespace megaswift::host
