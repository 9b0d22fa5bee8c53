#include "host/core/status.hpp"

#include <new>

namespace megaswift::host {
namespace {
// Returned when even the status allocation fails; status_free recognises and keeps it.
msw_status g_out_of_memory{MSW_STATUS_OUT_OF_MEMORY, "out of host memory while reporting an error"};
}  // namespace

msw_status* status_new(int32_t code, const char* message) {
  if (code == MSW_STATUS_OK) code = MSW_STATUS_INTERNAL;  // OK is NULL; a status object is always a failure
  try {
    return new msw_status{code, message ? message : ""};
  } catch (const std::bad_alloc&) {
    return &g_out_of_memory;
  }
}

void status_free(msw_status* status) {
  if (status != &g_out_of_memory) delete status;
}

const char* status_code_name(int32_t code) {
  switch (code) {
    case MSW_STATUS_OK: return "ok";
    case MSW_STATUS_INVALID_ARGUMENT: return "invalid argument";
    case MSW_STATUS_NOT_FOUND: return "not found";
    case MSW_STATUS_IO: return "I/O error";
    case MSW_STATUS_UNSUPPORTED: return "unsupported";
    case MSW_STATUS_SHAPE_MISMATCH: return "shape mismatch";
    case MSW_STATUS_OUT_OF_MEMORY: return "out of memory";
    case MSW_STATUS_VERSION_MISMATCH: return "version mismatch";
    case MSW_STATUS_NUMERICAL: return "numerical error";
    case MSW_STATUS_INTERNAL: return "internal error";
    case MSW_STATUS_TIMEOUT: return "timeout";
    case MSW_STATUS_ABORTED: return "aborted";
    default: return "unknown status";
  }
}

void throw_if_error(msw_status* status, const std::string& context) {
  if (!status) return;
  HostError error(static_cast<msw_status_code>(status->code),
                  context.empty() ? status->message : context + ": " + status->message);
  status_free(status);
  throw error;
}

}  // namespace megaswift::host
