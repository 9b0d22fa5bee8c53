#include "host/core/host_api.hpp"

#include "host/core/allocator.hpp"
#include "host/core/custom_ops.hpp"
#include "host/core/events.hpp"
#include "host/core/logging.hpp"
#include "host/core/progress.hpp"
#include "host/core/status.hpp"

#include <map>
#include <mutex>
#include <string>

namespace megaswift::host {
namespace {

int32_t status_code_of(const msw_status* s) { return s ? s->code : MSW_STATUS_OK; }
const char* status_message_of(const msw_status* s) { return s ? s->message.c_str() : ""; }

std::mutex g_extensions_mutex;
std::map<std::string, const void*>& extensions() {
  static std::map<std::string, const void*> m;
  return m;
}

const void* get_extension(const char* name) {
  if (!name) return nullptr;
  std::lock_guard lock(g_extensions_mutex);
  auto it = extensions().find(name);
  return it == extensions().end() ? nullptr : it->second;
}

msw_host_api& table() {
  static msw_host_api api = [] {
    msw_host_api a{};
    a.struct_size = sizeof(msw_host_api);
    a.abi_major = MSW_ABI_MAJOR;
    a.abi_minor = MSW_ABI_MINOR;
    a.host_version = MEGASWIFT_VERSION;
    a.status_new = status_new;
    a.status_free = status_free;
    a.status_code = status_code_of;
    a.status_message = status_message_of;
    a.log = log_from_plugin;
    a.log_threshold = current_log_threshold;
    a.alloc = device_alloc;
    a.free = device_free;
    a.ops = nullptr;
    a.comm = nullptr;
    a.progress_begin = progress_begin;
    a.progress_advance = progress_advance;
    a.progress_end = progress_end;
    a.get_extension = get_extension;
    // since 2.1
    a.event_create = event_create;
    a.event_destroy = event_destroy;
    a.event_record = event_record;
    a.stream_wait_event = stream_wait_event;
    a.event_synchronize = event_synchronize;
    a.stream_synchronize = stream_synchronize;
    a.register_op = register_op;
    a.find_op = find_op;
    a.call_op = call_op;
    return a;
  }();
  return api;
}

}  // namespace

const msw_host_api& host_api() { return table(); }
void install_ops(const msw_ops_api* ops) { table().ops = ops; }
void install_comm(const msw_comm_api* comm) { table().comm = comm; }
void install_extension(const char* name, const void* value) {
  std::lock_guard lock(g_extensions_mutex);
  extensions()[name] = value;
}

}  // namespace megaswift::host
