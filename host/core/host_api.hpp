// The process's msw_host_api table. The parts of the host that implement the ops table and the
// communicators install them here at start-up (install_ops / install_comm) before plugins are used,
// which keeps host/core free of dependencies on them.
#pragma once

#include <megaswift/c/host.h>

namespace megaswift::host {

const msw_host_api& host_api();
void install_ops(const msw_ops_api* ops);
void install_comm(const msw_comm_api* comm);
// Extensions answered by msw_host_api.get_extension; `value` must outlive the process.
void install_extension(const char* name, const void* value);

}  // namespace megaswift::host
