// The host's msw_ops_api: every op family, dispatched by the device of the call (ctx->device). CPU tensors run
// on kernels/cpu; a device without a backend yet answers UNSUPPORTED naming the op and the device. The lead's
// start-up code installs it with install_ops(&ops_api()).
//
// Every entry reads its args struct through the caller's struct_size (host/core/args.hpp): a NULL args or a
// struct_size that does not reach the op's required members is an INVALID_ARGUMENT naming the op, members
// past it read as zero, and an extension record marked MSW_EXT_REQUIRED is UNSUPPORTED (none is known yet).
//
// The CPU backend stages tensors it cannot hand to a kernel as they are (16-bit dtypes, row strides wider
// than a row) through float32 scratch (tensor_args.hpp) and allocates kernel scratch internally: it is
// synchronous and never captured, so the "no hidden copies" rule of host.h binds the device backends. It
// still refuses what the contract refuses (a last dimension that is not dense), so a plugin that runs on CPU
// passes tensors the CUDA backend can take. fp8 dtypes are UNSUPPORTED on CPU.
#pragma once

#include <megaswift/c/ops.h>

namespace megaswift::host {

const msw_ops_api& ops_api();

}  // namespace megaswift::host
