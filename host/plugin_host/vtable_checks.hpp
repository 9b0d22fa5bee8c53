// Per-kind checks of a plugin's vtable at load time: its struct_size must be plausible and every entry
// the kind marks REQUIRED must be present; each kind's C header says which ones those are.
#pragma once

#include <megaswift/c/abi.h>

#include <string>

namespace megaswift::host {

// The name of the first missing required entry, "struct_size" for an implausible size, or "".
std::string missing_required_entry(msw_plugin_kind kind, const void* vtable);

}  // namespace megaswift::host
