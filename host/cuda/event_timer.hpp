// CUDA events as the per-op profiler's timing marks (host/ops/op_profiler.hpp).
#pragma once

namespace megaswift::host::cuda {

// Registers cudaEvent-based timing marks for MSW_DEVICE_CUDA with the op profiler (register_cuda_backend does).
void register_event_timer();

}  // namespace megaswift::host::cuda
