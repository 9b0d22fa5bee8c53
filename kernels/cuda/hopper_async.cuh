// Hopper's asynchronous machinery as the warp-specialized attention kernels use it (attention_wgmma_fwd_ws.cu,
// attention_wgmma_bwd_ws.cu): mbarriers, named barriers among the consumer warpgroups, register hand-over, the
// bulk tensor copy (TMA) with its tensor maps, and wgmma descriptors of 128-byte-swizzled tiles.
#pragma once

#include <kernels/cuda/attention.hpp>
#include <kernels/cuda/attention_tc_ptx.cuh>
#include <kernels/cuda/attention_wgmma_ops.cuh>
#include <kernels/cuda/common.cuh>

#include <cuda.h>
#include <cudaTypedefs.h>

#include <cstdint>
#include <string>

namespace megaswift::kernels::cuda::wg {

// ---- mbarriers and named barriers ----

__device__ __forceinline__ void mbar_init(uint64_t* bar, int count) {
  asm volatile("mbarrier.init.shared::cta.b64 [%0], %1;\n" ::"r"(smem_addr(bar)), "r"(count) : "memory");
}
// Arrives with release semantics: what this thread wrote before is visible to a thread whose wait sees the phase end.
__device__ __forceinline__ void mbar_arrive(uint64_t* bar) {
  asm volatile("mbarrier.arrive.release.cta.shared::cta.b64 _, [%0];\n" ::"r"(smem_addr(bar)) : "memory");
}
// Arrives once this thread's cp.async copies issued so far have landed, without waiting for them (.noinc: the
// arrival counts against the barrier's expected count, one per producer thread).
__device__ __forceinline__ void mbar_arrive_copies(uint64_t* bar) {
  asm volatile("cp.async.mbarrier.arrive.noinc.shared::cta.b64 [%0];\n" ::"r"(smem_addr(bar)) : "memory");
}
// Waits (acquire) until the phase of the given parity has completed. A fresh barrier is in phase 0, so waiting
// for parity 1 returns at once: the producer's first pass over an empty ring.
__device__ __forceinline__ void mbar_wait(uint64_t* bar, uint32_t parity) {
  const unsigned addr = smem_addr(bar);
  uint32_t done = 0;
  do {
    asm volatile(
        "{\n.reg .pred p;\nmbarrier.try_wait.parity.acquire.cta.shared::cta.b64 p, [%1], %2;\nselp.u32 %0, 1, 0, p;\n}\n"
        : "=r"(done)
        : "r"(addr), "r"(parity)
        : "memory");
  } while (!done);
}
// Named barriers among the two consumer warpgroups (256 threads; id 0 is __syncthreads): sync waits until all
// have arrived, arrive counts this thread without waiting (a token passed from one warpgroup to the other).
__device__ __forceinline__ void named_sync(int id) { asm volatile("bar.sync %0, 256;\n" ::"r"(id) : "memory"); }
__device__ __forceinline__ void named_arrive(int id) { asm volatile("bar.arrive %0, 256;\n" ::"r"(id) : "memory"); }
template <int N>
__device__ __forceinline__ void regs_dec() { asm volatile("setmaxnreg.dec.sync.aligned.u32 %0;\n" ::"n"(N)); }
template <int N>
__device__ __forceinline__ void regs_inc() { asm volatile("setmaxnreg.inc.sync.aligned.u32 %0;\n" ::"n"(N)); }

// ---- the bulk tensor copy (TMA) and its shared-memory layout ----

// The first 1024-byte boundary at or after p (dynamic shared memory is allocated 1024 bytes larger for it): the
// swizzle works on address bits, so swizzled tiles start there.
__device__ __forceinline__ unsigned char* align_1024(unsigned char* p) { return p + ((1024 - (smem_addr(p) & 1023)) & 1023); }

// Tiles a TMA writes are in the 128-byte swizzle: the D channels in blocks of 64 (128 bytes a row), each block
// rows x 128 bytes with the 16-byte chunks of row r at chunk c ^ (r % 8); every block starts 1024-byte aligned.

// The box of `map` at (c0, c1, c2) -> dst, counted on bar's transaction bytes.
__device__ __forceinline__ void tma_load(void* dst, const CUtensorMap* map, int c0, int c1, int c2, uint64_t* bar) {
  asm volatile(
      "cp.async.bulk.tensor.3d.shared::cluster.global.mbarrier::complete_tx::bytes [%0], [%1, {%2, %3, %4}], [%5];\n" ::"r"(
          smem_addr(dst)),
      "l"(reinterpret_cast<uint64_t>(map)), "r"(c0), "r"(c1), "r"(c2), "r"(smem_addr(bar))
      : "memory");
}
// The producer's arrival on a full barrier, announcing the bytes its copies will complete.
__device__ __forceinline__ void mbar_expect(uint64_t* bar, uint32_t bytes) {
  asm volatile("mbarrier.arrive.expect_tx.shared::cta.b64 _, [%0], %1;\n" ::"r"(smem_addr(bar)), "r"(bytes) : "memory");
}
// A descriptor of a 128-byte-swizzled operand: leading and stride byte offsets, layout type 1 (bits 62-63).
__device__ __forceinline__ uint64_t sw128_desc(const void* p, uint32_t leading, uint32_t stride) {
  return smem_desc(p, leading, stride) | (uint64_t(1) << 62);
}
// A swizzled tile of R rows as a K-major operand at k-step kk (channels 16 kk ..): its 64-channel block, 32 bytes
// further per k-step inside it; 8-row groups 1024 bytes apart.
template <int R, class T>
__device__ __forceinline__ uint64_t sw128_k(const T* tile, int kk) {
  return sw128_desc(tile + (kk / 4) * R * 64 + (kk % 4) * 16, 16, 1024);
}
// A swizzled tile of R rows as an MN-major operand summed over its rows, k-step kk = rows 16 kk ..: N = the
// channels, the next 64 of them R x 128 bytes further (leading), the next 8 rows 1024 bytes (stride).
template <int R, class T>
__device__ __forceinline__ uint64_t sw128_mn(const T* tile, int kk) {
  return sw128_desc(tile + kk * 16 * 64, R * 128, 1024);
}

// ---- host: tensor maps ----

// cuTensorMapEncodeTiled from the driver the runtime loaded (no link against libcuda); NULL where it has none.
inline PFN_cuTensorMapEncodeTiled_v12000 tensor_map_encoder() {
  static const PFN_cuTensorMapEncodeTiled_v12000 fn = [] {
    void* p = nullptr;
    cudaDriverEntryPointQueryResult found{};
    if (cudaGetDriverEntryPointByVersion("cuTensorMapEncodeTiled", &p, 12000, cudaEnableDefault, &found) != cudaSuccess ||
        found != cudaDriverEntryPointSuccess)
      p = nullptr;
    return reinterpret_cast<PFN_cuTensorMapEncodeTiled_v12000>(p);
  }();
  return fn;
}

// The map of a batched (S, n_seqs, heads x D) tensor: boxes of 64 channels x 1 sequence x `rows` tokens,
// swizzled, zeros past the last token. `kernel` names the caller in errors; copy_engine_fits(g) held.
inline CUtensorMap batched_map(const void* base, Dtype dtype, int64_t row_elems, int64_t n_seqs, int64_t len, uint32_t rows,
                               const char* kernel) {
  const auto encode = tensor_map_encoder();
  CUtensorMap m{};
  const cuuint64_t dims[3] = {cuuint64_t(row_elems), cuuint64_t(n_seqs), cuuint64_t(len)};
  const cuuint64_t strides[2] = {cuuint64_t(row_elems) * 2, cuuint64_t(n_seqs * row_elems) * 2};
  const cuuint32_t box[3] = {64, 1, rows}, unit[3] = {1, 1, 1};
  const CUresult rc = encode(&m, dtype == Dtype::bf16 ? CU_TENSOR_MAP_DATA_TYPE_BFLOAT16 : CU_TENSOR_MAP_DATA_TYPE_FLOAT16, 3,
                             const_cast<void*>(base), dims, strides, box, unit, CU_TENSOR_MAP_INTERLEAVE_NONE,
                             CU_TENSOR_MAP_SWIZZLE_128B, CU_TENSOR_MAP_L2_PROMOTION_L2_256B, CU_TENSOR_MAP_FLOAT_OOB_FILL_NONE);
  if (rc != CUDA_SUCCESS)
    throw KernelError(std::string(kernel) + ": cuTensorMapEncodeTiled failed with error " +
                      std::to_string(static_cast<int>(rc)) + " for a tensor of " + std::to_string(len) + " x " +
                      std::to_string(n_seqs) + " x " + std::to_string(row_elems));
  return m;
}

// Whether the copy engine feeds a call of this geometry: batched layouts (it zero-fills past the tensor's end only,
// not past a packed sequence's) on a driver with tensor maps. The caller checked attention_tc_eligible, which
// holds every pointer to the 16-byte alignment tensor maps need.
inline bool copy_engine_fits(const AttentionGeometry& g) {
  return tensor_map_encoder() && !g.q_packed && g.kv == AttentionKv::batched;
}

}  // namespace megaswift::kernels::cuda::wg
