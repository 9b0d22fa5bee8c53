// Flags whose feature this build does not have yet, and Python-only flags. Each is accepted (so a Megatron-SWIFT
// command line keeps working) and gets a clear line: a warning when the run goes on without it and the losses are
// the same (an overlap or a fusion only changes speed), a HostError when the run would not be what the flag asks.
#pragma once

#include "host/config/args.hpp"

#include <cstdint>
#include <string_view>

namespace megaswift::training {

// Throws HostError when a flag (or NPROC_PER_NODE) asks for what this build cannot do, or NPROC_PER_NODE is no count.
void check_feature_flags(const config::ParsedArgs& args);

// NPROC_PER_NODE's value as a process count; HostError INVALID_ARGUMENT unless a whole number >= 1 (no sign, no
// spaces, no trailing text).
int64_t nproc_per_node(std::string_view value);

}  // namespace megaswift::training
