// The host's msw_ops_api: every op family, dispatched by the device of the call (ctx->device). CPU tensors run
// on kernels/cpu; a device without a backend yet answers UNSUPPORTED naming the op and the device. The lead's
// start-up code installs it with install_ops(&ops_api()).
#pragma once

#include <megaswift/c/ops.h>

namespace megaswift::host {

const msw_ops_api& ops_api();

}  // namespace megaswift::host
