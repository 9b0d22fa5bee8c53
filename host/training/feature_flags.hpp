// Flags whose feature this build does not have yet, and Python-only flags. Each is accepted (so a Megatron-SWIFT
// command line keeps working) and gets a clear line: a warning when the run goes on without it and the losses are
// the same (an overlap or a fusion only changes speed), a HostError when the run would not be what the flag asks.
#pragma once

#include "host/config/args.hpp"

namespace megaswift::training {

void check_feature_flags(const config::ParsedArgs& args);

}  // namespace megaswift::training
