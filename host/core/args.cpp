#include "host/core/args.hpp"

#include <cstdio>

namespace megaswift::host {

ArgsError check_extensions(const msw_ext* next) {
  // A chain longer than this is a cycle (records pointing back at each other), not a real request.
  constexpr int kMaxRecords = 1024;
  int count = 0;
  for (const msw_ext* e = next; e; e = e->next) {
    if (++count > kMaxRecords)
      return {MSW_STATUS_INVALID_ARGUMENT, "the extension chain (args->next) has more than " +
                                               std::to_string(kMaxRecords) + " records: it loops back on itself"};
    if ((e->type & MSW_EXT_REQUIRED) == 0) continue;  // optional and unknown: ignored, as abi.h says
    char type[16];
    std::snprintf(type, sizeof type, "0x%08x", static_cast<unsigned>(e->type));
    // No extension type is known to this host yet, so every required one is refused.
    return {MSW_STATUS_UNSUPPORTED,
            std::string("extension record of type ") + type + " (type " +
                std::to_string(e->type & ~MSW_EXT_REQUIRED) +
                " marked MSW_EXT_REQUIRED) is not known to this host: the caller requires an option it cannot honour"};
  }
  return {};
}

}  // namespace megaswift::host
