// The tensor-core path of the CUDA attention (attention_forward / attention_backward of attention.hpp, same
// semantics and the same lse): bf16/f16 operands on mma.sync tensor cores with fp32 accumulators and an fp32
// online softmax, FlashAttention-2 style (see attention_tc.cu for the algorithm and tiling). attention.cu's
// launchers take this path when attention_tc_eligible() says so and the fp32 SIMT kernels otherwise.
#pragma once

#include <kernels/cuda/attention.hpp>

#include <cstdint>
#include <initializer_list>

namespace megaswift::kernels::cuda {

// Which kernels attention_forward / attention_backward run: `automatic` takes the tensor-core path wherever it is
// eligible, each of its kernels (forward, dq, dk/dv) on whichever of mma.sync and Hopper's wgmma
// (attention_wgmma.hpp) measured faster on a compute capability 9 device; `mma_sync` and `wgmma` take every
// tensor-core kernel on that one (wgmma falls back to mma.sync on a device without it); `simt` always the fp32
// SIMT kernels. The initial choice comes from the environment variable MEGASWIFT_ATTENTION_KERNEL, read once
// ("simt", "mma", "wgmma"; unset, "", "auto" or "tc" -> automatic; "wgmma=dq,dkdv" -> automatic with exactly the
// listed kernels (fwd, dq, dkdv) on wgmma, for measuring a mix; anything else is a KernelError at the first
// attention launch). Tests and benchmarks comparing the paths in one process set it with set_attention_kernels
// (not meant for concurrent use with running launches on other host threads).
enum class AttentionKernels : int32_t { automatic = 0, simt = 1, mma_sync = 2, wgmma = 3 };
AttentionKernels attention_kernels();
void set_attention_kernels(AttentionKernels choice);

// Whether the tensor-core kernels take this call: a choice other than simt, dtype bf16 or f16 with kv_dtype equal to it,
// kv batched or packed (not a cache), head_dim 64 or 128, no window, no softcap, a positive finite scale, and
// every tensor pointer 16-byte aligned (the kernels move 16-byte chunks with cp.async; NULL pointers are not
// checked, a forward's lse may be NULL). Anything else runs the SIMT kernels.
bool attention_tc_eligible(const AttentionGeometry& g, Dtype dtype, Dtype kv_dtype,
                           std::initializer_list<const void*> tensors);

// The backward materializes dS (the dk/dv kernel on wgmma writes it, and dq is one product per tile pair instead
// of a kernel that recomputes S and dP: attention_wgmma.hpp) where dk/dv runs on wgmma, the geometry is batched
// self-attention, and the tiles take at most the budget: MEGASWIFT_ATTENTION_DS_MIB, read once (default 4096
// MiB; 0 never; anything but a whole number is a KernelError at the first backward), or set_attention_ds_budget
// (bytes, for tests and benchmarks; a negative value goes back to the environment's).
int64_t attention_ds_budget();
void set_attention_ds_budget(int64_t bytes);
// Bytes of dS tiles attention_tc_backward materializes for this call under the current choice (0: none, dq runs
// its own kernel); attention_backward_scratch includes them. Assumes the call is attention_tc_eligible.
int64_t attention_tc_ds_bytes(const AttentionGeometry& g, Dtype dtype);
// Backward calls that took dq from materialized dS so far in this process.
int64_t attention_ds_backward_calls();

// The tensor-core launchers; the caller checked attention_tc_eligible. Same contracts as attention_forward and
// attention_backward (the backward writes rowsum(dout * out) into `scratch`, attention_backward_scratch floats,
// and the dS tiles after attention_delta_floats).
void attention_tc_forward(const AttentionGeometry& g, const void* q, const void* k, const void* v, Dtype dtype,
                          void* out, float* lse, Stream stream);
void attention_tc_backward(const AttentionGeometry& g, const void* q, const void* k, const void* v, const void* out,
                           const float* lse, const void* dout, void* dq, void* dk, void* dv, Dtype dtype,
                           float* scratch, Stream stream);

// One of attention_tc_backward's three kernels: delta (rowsum(dout * out) into scratch), dq (reads delta; with dS
// tiles, reads those instead), dk and dv (read delta; with dS tiles, write them). attention_tc_backward runs
// delta, then dq and dk/dv in the order their data needs; the benchmark times them one by one. Does not count as
// a backward call.
enum class AttentionTcBackwardPart : int32_t { delta = 0, dq = 1, dkdv = 2 };
void attention_tc_backward_part(AttentionTcBackwardPart part, const AttentionGeometry& g, const void* q,
                                const void* k, const void* v, const void* out, const float* lse, const void* dout,
                                void* dq, void* dk, void* dv, Dtype dtype, float* scratch, Stream stream);

// Calls of attention_tc_forward and attention_tc_backward so far in this process (tests check that a case
// really ran on the tensor-core path rather than falling back).
int64_t attention_tc_forward_calls();
int64_t attention_tc_backward_calls();

}  // namespace megaswift::kernels::cuda
