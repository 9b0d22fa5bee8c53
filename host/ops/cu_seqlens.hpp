// Reading the sequence offsets of the attention ops (THD layouts) on the host: the CPU backend needs them
// to build its problem; a device backend sizes its grids by max_seqlen instead.
#pragma once

#include "host/ops/cpu_ops.hpp"

#include <cstdint>
#include <vector>

namespace megaswift::host::ops::cpu_impl {

// cu_seqlens (I32, N+1): non-decreasing offsets within [0, rows]; returns them as host values.
std::vector<int32_t> read_cu_seqlens(Ctx ctx, const msw_tensor* t, const char* name, int64_t rows);

}  // namespace megaswift::host::ops::cpu_impl
