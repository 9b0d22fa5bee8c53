#include "host/ops/cuda/cuda_args.hpp"

#include <cuda_runtime.h>

#include <string>

namespace megaswift::host::ops::cuda_impl {

kc::Dtype float_dtype(const msw_tensor& t, const char* name) {
  switch (t.dtype) {
    case MSW_DTYPE_F32: return kc::Dtype::f32;
    case MSW_DTYPE_BF16: return kc::Dtype::bf16;
    case MSW_DTYPE_F16: return kc::Dtype::f16;
    default:
      fail(MSW_STATUS_UNSUPPORTED, std::string(name) + " is " + describe(t) +
                                       ": the CUDA kernels store f32, bf16 or f16 (cast it with ops.copy)");
  }
}

const msw_tensor& require_dense_float(Ctx ctx, const msw_tensor* t, const char* name) {
  const msw_tensor& r = require(t, name, ctx.device, false);
  float_dtype(r, name);
  if (!msw_tensor_is_contiguous(&r))
    fail(MSW_STATUS_INVALID_ARGUMENT, std::string(name) + " " + describe(r) +
                                          " is not contiguous: this CUDA kernel takes dense tensors (ops.copy makes one)");
  return r;
}

const msw_tensor& require_dense_index(Ctx ctx, const msw_tensor* t, const char* name) {
  require_index(t, name, ctx.device);
  if (!msw_tensor_is_contiguous(t))
    fail(MSW_STATUS_INVALID_ARGUMENT, std::string(name) + " " + describe(*t) + " is not contiguous");
  return *t;
}

void* data_of(const msw_tensor& t) { return static_cast<char*>(t.data) + t.byte_offset; }

void use_device(Ctx ctx) {
  int current = -1;
  cudaGetDevice(&current);
  if (current == ctx.device.id) return;
  const cudaError_t rc = cudaSetDevice(ctx.device.id);
  if (rc != cudaSuccess)
    fail(MSW_STATUS_INVALID_ARGUMENT, "GPU " + std::to_string(ctx.device.id) + " cannot be used: " + cudaGetErrorString(rc));
}

}  // namespace megaswift::host::ops::cuda_impl

#include "host/core/host_api.hpp"
#include "host/core/status.hpp"

namespace megaswift::host::ops::cuda_impl {

Scratch::Scratch(Ctx ctx, size_t bytes) : ctx_(ctx) {
  msw_alloc_args a{};
  a.struct_size = sizeof a;
  a.device = ctx.device;
  a.bytes = bytes;
  a.stream = ctx.stream;
  if (msw_status* s = host_api().alloc(&a, &p_)) {
    const std::string message = host_api().status_message(s);
    host_api().status_free(s);
    fail(MSW_STATUS_OUT_OF_MEMORY, "device scratch of " + std::to_string(bytes) + " bytes: " + message);
  }
}

Scratch::~Scratch() {
  msw_free_args f{};
  f.struct_size = sizeof f;
  f.device = ctx_.device;
  f.ptr = p_;
  f.stream = ctx_.stream;
  host_api().free(&f);
}

}  // namespace megaswift::host::ops::cuda_impl
