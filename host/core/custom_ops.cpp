#include "host/core/custom_ops.hpp"

#include "host/core/args.hpp"
#include "host/core/printable.hpp"
#include "host/core/status.hpp"

#include <algorithm>
#include <cstring>
#include <map>
#include <mutex>
#include <shared_mutex>
#include <utility>

namespace megaswift::host {
namespace {

struct Entry {
  std::string summary;
  msw_custom_op_fn fn = nullptr;
};

using Key = std::pair<std::string, int32_t>;  // (name, device type)

std::shared_mutex& registry_mutex() {
  static std::shared_mutex m;
  return m;
}

std::map<Key, Entry>& registry() {
  static std::map<Key, Entry> r;
  return r;
}

const char* device_name(int32_t type) {
  switch (type) {
    case MSW_DEVICE_CPU: return "CPU";
    case MSW_DEVICE_CUDA: return "CUDA";
    case MSW_DEVICE_CUDA_HOST: return "CUDA pinned host memory";
    default: return nullptr;
  }
}

std::string device_label(int32_t type) {
  const char* n = device_name(type);
  return n ? n : "device type " + std::to_string(type);
}

bool valid_name(const std::string& name) {
  if (name.empty()) return false;
  for (char c : name)
    if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '.')) return false;
  return true;
}

std::string quoted_summary(const std::string& s) { return s.empty() ? "(no summary)" : "\"" + s + "\""; }

msw_status* refuse(int32_t code, const std::string& message) {
  return status_new(code, ("register_op: " + message).c_str());
}

}  // namespace

msw_status* register_op(const msw_custom_op* in) {
  msw_custom_op op{};
  if (!in) return refuse(MSW_STATUS_INVALID_ARGUMENT, "op is NULL");
  if (in->struct_size < MSW_SIZE_THROUGH(msw_custom_op, fn))
    return refuse(MSW_STATUS_INVALID_ARGUMENT, "op->struct_size " + std::to_string(in->struct_size) +
                                                   " is smaller than the record up to `fn` (set it to sizeof(msw_custom_op))");
  std::memcpy(&op, in, std::min<size_t>(in->struct_size, sizeof op));
  const std::string name = op.name ? op.name : "";
  if (!valid_name(name))
    return refuse(MSW_STATUS_INVALID_ARGUMENT, "op name \"" + printable(name) +
                                                   "\" is not valid: use lower-case letters, digits, '_' and '.', "
                                                   "as \"<plugin>.<op>\" (e.g. \"gemma.geglu_forward\")");
  if (!device_name(op.device_type))
    return refuse(MSW_STATUS_INVALID_ARGUMENT, "op \"" + name + "\" names device type " + std::to_string(op.device_type) +
                                                   ", which is not an msw_device_type (CPU 1, CUDA 2)");
  if (!op.fn) return refuse(MSW_STATUS_INVALID_ARGUMENT, "op \"" + name + "\" has no function (fn is NULL)");
  // Stored escaped: the summary is shown by listings and in the duplicate message below.
  const std::string summary = op.summary ? printable(op.summary) : "";
  std::unique_lock lock(registry_mutex());
  auto [it, inserted] = registry().try_emplace(Key{name, op.device_type}, Entry{summary, op.fn});
  if (!inserted)
    return refuse(MSW_STATUS_INVALID_ARGUMENT,
                  "op \"" + name + "\" for " + device_label(op.device_type) + " is already registered (" +
                      quoted_summary(it->second.summary) + "); the second registration (" + quoted_summary(summary) +
                      ") is refused: two plugins chose the same name, or one registered twice (prefix op names "
                      "with the plugin's name and register once, from the plugin's entry)");
  return nullptr;
}

msw_custom_op_fn find_op(const char* name, int32_t device_type) {
  if (!name) return nullptr;
  std::shared_lock lock(registry_mutex());
  auto it = registry().find(Key{name, device_type});
  return it == registry().end() ? nullptr : it->second.fn;
}

msw_status* call_op(const char* name, const msw_exec_ctx* ctx, const void* args) {
  if (!name) return status_new(MSW_STATUS_INVALID_ARGUMENT, "call_op: name is NULL");
  const std::string shown = printable(name);  // the caller's string, in messages
  if (!ctx) return status_new(MSW_STATUS_INVALID_ARGUMENT, ("call_op \"" + shown + "\": ctx is NULL").c_str());
  if (ctx->struct_size < MSW_SIZE_THROUGH(msw_exec_ctx, device))
    return status_new(MSW_STATUS_INVALID_ARGUMENT,
                      ("call_op \"" + shown + "\": ctx->struct_size " + std::to_string(ctx->struct_size) +
                       " is too small to hold the device")
                          .c_str());
  const int32_t device = ctx->device.type;
  msw_custom_op_fn fn = find_op(name, device);
  if (!fn) {
    std::string others;
    {
      std::shared_lock lock(registry_mutex());
      for (const auto& [key, entry] : registry())
        if (key.first == name) others += (others.empty() ? "" : ", ") + device_label(key.second);
    }
    return status_new(MSW_STATUS_NOT_FOUND,
                      ("call_op: no op \"" + shown + "\" is registered for " + device_label(device) +
                       (others.empty() ? std::string(" (nor for any other device: is the plugin that provides it loaded?)")
                                       : " (it is registered for " + others + ")"))
                          .c_str());
  }
  return fn(ctx, args);
}

std::vector<CustomOpInfo> registered_ops() {
  std::shared_lock lock(registry_mutex());
  std::vector<CustomOpInfo> out;
  for (const auto& [key, entry] : registry()) out.push_back({key.first, key.second, entry.summary});
  return out;
}

}  // namespace megaswift::host
