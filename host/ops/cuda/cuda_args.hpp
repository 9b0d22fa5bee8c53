// Checking the tensors a CUDA op receives: on the call's CUDA device, a storage type the kernels compute on
// (f32, bf16, f16), dense where the kernel needs it; and the call's stream. Failures throw OpError (the
// dispatch prefixes the op's name), as the CPU checks do.
#pragma once

#include "host/ops/tensor_args.hpp"

#include "kernels/cuda/launch.hpp"

#include <megaswift/c/ops.h>

namespace megaswift::host::ops::cuda_impl {

namespace kc = megaswift::kernels::cuda;

using Ctx = const msw_exec_ctx&;

// The kernels' storage type of a floating tensor; OpError for another dtype.
kc::Dtype float_dtype(const msw_tensor& t, const char* name);
// `t` is given, on ctx's CUDA device, floating (f32/bf16/f16) and dense (contiguous): the kernels index it flat.
const msw_tensor& require_dense_float(Ctx ctx, const msw_tensor* t, const char* name);
// The same for an index tensor (I64 or I32).
const msw_tensor& require_dense_index(Ctx ctx, const msw_tensor* t, const char* name);
// The element pointer (data + byte_offset).
void* data_of(const msw_tensor& t);
inline kc::Stream stream_of(Ctx ctx) { return ctx.stream; }
// Makes ctx's GPU current for the launches of this call (kernels launch on the current device).
void use_device(Ctx ctx);

}  // namespace megaswift::host::ops::cuda_impl

namespace megaswift::host::ops::cuda_impl {

// Stream-ordered device scratch for one call (from the host's caching allocator), released on the call's stream.
class Scratch {
 public:
  Scratch(Ctx ctx, size_t bytes);
  ~Scratch();
  Scratch(const Scratch&) = delete;
  Scratch& operator=(const Scratch&) = delete;
  void* data() const { return p_; }

 private:
  const msw_exec_ctx& ctx_;
  void* p_ = nullptr;
};

}  // namespace megaswift::host::ops::cuda_impl
