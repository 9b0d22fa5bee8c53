// The implementations of the ops for a device other than the CPU: one function pointer per msw_ops_api entry,
// each taking the caller's args already read into a zeroed struct of this host's size (as the CPU ones do). A
// backend (the CUDA one, host/ops/cuda) installs its table at start-up; entries it leaves NULL are ops it has no
// kernel for yet, which the dispatch reports as UNSUPPORTED naming the op and the device.
#pragma once

#include <megaswift/c/ops.h>

namespace megaswift::host::ops {

struct DeviceOpTable {
#define MSW_DEVICE_OP(name, args_type) void (*name)(const msw_exec_ctx&, const args_type&) = nullptr;
  MSW_DEVICE_OP(fill, msw_fill_args)
  MSW_DEVICE_OP(copy, msw_copy_args)
  MSW_DEVICE_OP(add, msw_add_args)
  MSW_DEVICE_OP(accumulate, msw_accumulate_args)
  MSW_DEVICE_OP(scale, msw_scale_args)
  MSW_DEVICE_OP(sum_squares, msw_sum_squares_args)
  MSW_DEVICE_OP(gemm, msw_gemm_args)
  MSW_DEVICE_OP(linear_forward, msw_linear_forward_args)
  MSW_DEVICE_OP(linear_backward, msw_linear_backward_args)
  MSW_DEVICE_OP(embedding_forward, msw_embedding_forward_args)
  MSW_DEVICE_OP(embedding_backward, msw_embedding_backward_args)
  MSW_DEVICE_OP(rmsnorm_forward, msw_rmsnorm_forward_args)
  MSW_DEVICE_OP(rmsnorm_backward, msw_rmsnorm_backward_args)
  MSW_DEVICE_OP(layernorm_forward, msw_layernorm_forward_args)
  MSW_DEVICE_OP(layernorm_backward, msw_layernorm_backward_args)
  MSW_DEVICE_OP(rope_tables, msw_rope_tables_args)
  MSW_DEVICE_OP(rope_forward, msw_rope_args)
  MSW_DEVICE_OP(rope_backward, msw_rope_args)
  MSW_DEVICE_OP(qkv_split_forward, msw_qkv_split_args)
  MSW_DEVICE_OP(qkv_split_backward, msw_qkv_split_args)
  MSW_DEVICE_OP(attention_forward, msw_attention_args)
  MSW_DEVICE_OP(attention_backward, msw_attention_args)
  MSW_DEVICE_OP(swiglu_forward, msw_swiglu_args)
  MSW_DEVICE_OP(swiglu_backward, msw_swiglu_args)
  MSW_DEVICE_OP(gelu_forward, msw_gelu_args)
  MSW_DEVICE_OP(gelu_backward, msw_gelu_args)
  MSW_DEVICE_OP(cross_entropy_forward, msw_cross_entropy_args)
  MSW_DEVICE_OP(cross_entropy_backward, msw_cross_entropy_args)
  MSW_DEVICE_OP(adamw_step, msw_adamw_step_args)
  MSW_DEVICE_OP(sgd_step, msw_sgd_step_args)
  MSW_DEVICE_OP(attention_kvcache_forward, msw_attention_kvcache_args)
#undef MSW_DEVICE_OP
};

// Installs the table of device type `device_type` (MSW_DEVICE_CUDA); the table must outlive the process.
void install_device_ops(int32_t device_type, const DeviceOpTable* table);
// The installed table of `device_type`, or NULL.
const DeviceOpTable* device_ops(int32_t device_type);

}  // namespace megaswift::host::ops
