// Plugin-provided ops (msw_host_api.register_op / find_op / call_op): a thread-safe registry keyed by
// (name, device type). Names are "<plugin>.<op>" in [a-z0-9_.]+; a second registration of a key is refused
// naming both registrations; entries live for the process (plugins are never unloaded).
#pragma once

#include <megaswift/c/host.h>

#include <string>
#include <vector>

namespace megaswift::host {

msw_status* register_op(const msw_custom_op* op);
msw_custom_op_fn find_op(const char* name, int32_t device_type);
msw_status* call_op(const char* name, const msw_exec_ctx* ctx, const void* args);

// One registered op, for listings (`megatron plugins`) and tests.
struct CustomOpInfo {
  std::string name;
  int32_t device_type = 0;
  std::string summary;
};
std::vector<CustomOpInfo> registered_ops();

}  // namespace megaswift::host
