// The Hopper (sm_90a) kernels of the tensor-core attention: forward, dq and dk/dv on warpgroup MMA (wgmma), the
// same contracts, the same math and the same determinism as attention_tc.cu's mma.sync kernels (see
// attention_wgmma.cu). attention_tc_forward and attention_tc_backward take them on a compute capability 9 device
// unless the choice is AttentionKernels::mma_sync.
#pragma once

#include <kernels/cuda/attention.hpp>

#include <cstdint>

namespace megaswift::kernels::cuda {

// Whether the current device runs wgmma (compute capability 9.x; read once per device).
bool attention_wgmma_device();

// out and lse (attention_tc_forward's contract), warp-specialized (attention_wgmma_fwd_ws.cu): batched layouts
// through the bulk tensor copy, packed ones through cp.async.
void attention_wgmma_forward(const AttentionGeometry& g, const void* q, const void* k, const void* v, Dtype dtype,
                             void* out, float* lse, Stream stream);
// dq from q, k, v, lse, dout and delta (rowsum(dout * out), attention_tc's delta kernel); dk and dv likewise.
// The caller checked attention_tc_eligible and attention_wgmma_device.
void attention_wgmma_dq(const AttentionGeometry& g, const void* q, const void* k, const void* v, const float* lse,
                        const void* dout, const float* delta, void* dq, Dtype dtype, Stream stream);
// ds: NULL, or attention_wgmma_ds_bytes(g) bytes (16-byte aligned) that receive the dS tiles for
// attention_wgmma_dq_from_ds.
void attention_wgmma_dkdv(const AttentionGeometry& g, const void* q, const void* k, const void* v, const float* lse,
                          const void* dout, const float* delta, void* dk, void* dv, void* ds, Dtype dtype, Stream stream);

// dq from the dS tiles the dk/dv kernel wrote (one product per tile pair instead of the dq kernel's three): bytes
// they take for this geometry, 0 where there are none: they exist for self-attention of batched sequences
// (q_len == kv_len), where the 64-query and 64-key tiles share one grid, and take q_heads * n_seqs * t (t + 1) / 2
// tiles of 8 KiB (t = ceil(q_len / 64)), growing with the square of the sequence length.
int64_t attention_wgmma_ds_bytes(const AttentionGeometry& g);
void attention_wgmma_dq_from_ds(const AttentionGeometry& g, const void* k, const void* ds, void* dq, Dtype dtype,
                                Stream stream);

// Launches of any of them so far in this process (tests check that a case ran on them).
int64_t attention_wgmma_calls();

// Warpgroups per block of attention_wgmma.cu's dk/dv kernel: 1 (64 keys a block) or 2 (128, the two warpgroups
// sharing every tile the block streams). From MEGASWIFT_ATTENTION_WARPGROUPS, read once (unset: 2; anything but 1
// or 2 is a KernelError at the first launch), or set_attention_wgmma_warpgroups (0: back to the environment's).
int attention_wgmma_warpgroups();
void set_attention_wgmma_warpgroups(int w);
// Forward launches so far whose producer used the bulk tensor copy.
int64_t attention_wgmma_forward_tma_calls();
// Whether dk/dv runs warp-specialized (attention_wgmma_bwd_ws.cu) instead of attention_wgmma.cu's kernel: from
// MEGASWIFT_ATTENTION_BACKWARD_WS, read once (unset: on; "0" or "1", anything else a KernelError), or
// set_attention_wgmma_backward_ws (0 off, 1 on, -1 back to the environment's).
bool attention_wgmma_backward_ws();
void set_attention_wgmma_backward_ws(int w);
// attention_wgmma_dkdv's contract on the warp-specialized kernel: batched layouts through the bulk tensor copy,
// packed ones through cp.async. Its launches so far, and those of them on the bulk tensor copy.
void attention_wgmma_dkdv_ws(const AttentionGeometry& g, const void* q, const void* k, const void* v, const float* lse,
                             const void* dout, const float* delta, void* dk, void* dv, void* ds, Dtype dtype, Stream stream);
int64_t attention_wgmma_dkdv_ws_calls();
int64_t attention_wgmma_dkdv_tma_calls();

}  // namespace megaswift::kernels::cuda
