// What the tensor-core attention kernels share (attention_tc.cu on mma.sync, attention_wgmma.cu on Hopper's
// wgmma): cp.async copies, ldmatrix and mma.sync wrappers, fp32 -> 16-bit packing, the quad reductions of an mma
// fragment's rows, the block -> (sequence, head) mapping of their grids, and on the host the grid and the
// dtype / head_dim dispatch of their launchers.
#pragma once

#include <kernels/cuda/attention.hpp>
#include <kernels/cuda/common.cuh>

#include <cuda_bf16.h>
#include <cuda_fp16.h>

#include <cstdint>
#include <cstring>
#include <string>
#include <type_traits>

namespace megaswift::kernels::cuda::tc_ptx {

constexpr float kLog2e = 1.4426950408889634f;
constexpr float kLn2 = 0.6931471805599453f;

__device__ __forceinline__ unsigned smem_addr(const void* p) { return static_cast<unsigned>(__cvta_generic_to_shared(p)); }

// 16 bytes global -> shared, zero-filled (nothing read) when !ok.
__device__ __forceinline__ void cp_async16(void* dst, const void* src, bool ok) {
  asm volatile("cp.async.cg.shared.global [%0], [%1], 16, %2;\n" ::"r"(smem_addr(dst)), "l"(src), "r"(ok ? 16 : 0)
               : "memory");
}
// 4 bytes global -> shared (.ca: the only cache mode below 16 bytes), zero-filled when !ok.
__device__ __forceinline__ void cp_async4(void* dst, const void* src, bool ok) {
  asm volatile("cp.async.ca.shared.global [%0], [%1], 4, %2;\n" ::"r"(smem_addr(dst)), "l"(src), "r"(ok ? 4 : 0)
               : "memory");
}
__device__ __forceinline__ void cp_async_commit() { asm volatile("cp.async.commit_group;\n" ::: "memory"); }
template <int N>
__device__ __forceinline__ void cp_async_wait() { asm volatile("cp.async.wait_group %0;\n" ::"n"(N) : "memory"); }

// Four 8x8 b16 matrices; lane l gives the address of row l % 8 of matrix l / 8, register i receives matrix i
// (thread t holds row t / 4, elements 2 (t % 4) and + 1; transposed with .trans).
__device__ __forceinline__ void ldsm_x4(uint32_t (&r)[4], const void* p) {
  asm volatile("ldmatrix.sync.aligned.m8n8.x4.shared.b16 {%0, %1, %2, %3}, [%4];\n"
               : "=r"(r[0]), "=r"(r[1]), "=r"(r[2]), "=r"(r[3])
               : "r"(smem_addr(p)));
}
__device__ __forceinline__ void ldsm_x4_trans(uint32_t (&r)[4], const void* p) {
  asm volatile("ldmatrix.sync.aligned.m8n8.x4.trans.shared.b16 {%0, %1, %2, %3}, [%4];\n"
               : "=r"(r[0]), "=r"(r[1]), "=r"(r[2]), "=r"(r[3])
               : "r"(smem_addr(p)));
}

// One 8x8 b16 matrix held a register per thread in ldmatrix's layout (thread t: row t / 4, elements 2 (t % 4) and
// + 1), transposed in place: afterwards thread t holds row t / 4 of the transpose.
__device__ __forceinline__ uint32_t transpose8x8(uint32_t x) {
  uint32_t y;
  asm volatile("movmatrix.sync.aligned.m8n8.trans.b16 %0, %1;\n" : "=r"(y) : "r"(x));
  return y;
}

// c += a * b for one m16n8k16 tile: a 16x16 (row major, 4 registers), b 16x8 (2 registers), c 16x8 fp32.
template <class T>
__device__ __forceinline__ void mma(float (&c)[4], const uint32_t (&a)[4], uint32_t b0, uint32_t b1) {
  if constexpr (std::is_same_v<T, __nv_bfloat16>) {
    asm("mma.sync.aligned.m16n8k16.row.col.f32.bf16.bf16.f32 {%0, %1, %2, %3}, {%4, %5, %6, %7}, {%8, %9}, "
        "{%0, %1, %2, %3};\n"
        : "+f"(c[0]), "+f"(c[1]), "+f"(c[2]), "+f"(c[3])
        : "r"(a[0]), "r"(a[1]), "r"(a[2]), "r"(a[3]), "r"(b0), "r"(b1));
  } else {
    asm("mma.sync.aligned.m16n8k16.row.col.f32.f16.f16.f32 {%0, %1, %2, %3}, {%4, %5, %6, %7}, {%8, %9}, "
        "{%0, %1, %2, %3};\n"
        : "+f"(c[0]), "+f"(c[1]), "+f"(c[2]), "+f"(c[3])
        : "r"(a[0]), "r"(a[1]), "r"(a[2]), "r"(a[3]), "r"(b0), "r"(b1));
  }
}

// Two floats as a pair of T in one register, lo in the low half (the lower column of an mma fragment).
template <class T>
__device__ __forceinline__ uint32_t pack(float lo, float hi) {
  uint32_t r;
  if constexpr (std::is_same_v<T, __nv_bfloat16>) {
    const __nv_bfloat162 h = __floats2bfloat162_rn(lo, hi);
    memcpy(&r, &h, 4);
  } else {
    const __half2 h = __floats2half2_rn(lo, hi);
    memcpy(&r, &h, 4);
  }
  return r;
}

// An A fragment (16 x 16) from the fp32 accumulators of two neighbouring 16 x 8 C tiles (columns 0-7 and 8-15):
// the C layout of the pair is the A layout of one k-step (FlashAttention-2's register reuse), rounded to T.
template <class T>
__device__ __forceinline__ void acc_to_a(uint32_t (&a)[4], const float (&c0)[4], const float (&c1)[4]) {
  a[0] = pack<T>(c0[0], c0[1]);
  a[1] = pack<T>(c0[2], c0[3]);
  a[2] = pack<T>(c1[0], c1[1]);
  a[3] = pack<T>(c1[2], c1[3]);
}

// 2^x in one MUFU.EX2: the approximation exp2f compiles to, without exp2f's fix-up of subnormal arguments and
// results (4 instructions instead of 1); those are below 2^-126, nothing next to a softmax row's largest term,
// which is 1. exp2(-inf) = 0 as before.
__device__ __forceinline__ float exp2_ftz(float x) {
  float y;
  asm("ex2.approx.ftz.f32 %0, %1;\n" : "=f"(y) : "f"(x));
  return y;
}

__device__ __forceinline__ float quad_max(float v) {
  v = fmaxf(v, __shfl_xor_sync(0xffffffffu, v, 1));
  return fmaxf(v, __shfl_xor_sync(0xffffffffu, v, 2));
}
__device__ __forceinline__ float quad_sum(float v) {
  v += __shfl_xor_sync(0xffffffffu, v, 1);
  return v + __shfl_xor_sync(0xffffffffu, v, 2);
}

__device__ __forceinline__ int64_t min64(int64_t a, int64_t b) { return a < b ? a : b; }
__device__ __forceinline__ int64_t max64(int64_t a, int64_t b) { return a > b ? a : b; }

// What a block works on: the grid is (n_seqs * heads, tile ranks), blockIdx.x = sequence * heads + head, and
// blockIdx.y = the rank of its first tile, 0 the heaviest. Blocks start roughly in linear-id order (x fastest), so
// every sequence's and head's heaviest tile starts first and the light ones fill the tail (longest job first); with
// the tiles in x and the heads in y, a GQA dk/dv grid would start the second kv head's heavy tiles only after the
// whole first head's and end on them.
struct BlockWork {
  int64_t s;
  int head;
};
__device__ __forceinline__ BlockWork block_work(int heads) {
  const unsigned s = blockIdx.x / static_cast<unsigned>(heads);
  return {int64_t(s), static_cast<int>(blockIdx.x - s * static_cast<unsigned>(heads))};
}

// ---- launching ----

inline int64_t tiles_for(int64_t len, int64_t tile) { return (len + tile - 1) / tile; }

// (n_seqs * heads, tile ranks) blocks (block_work); past 65535 tiles (the grid's y limit) a block also takes the
// tiles 65535, 2 * 65535, ... after its own (the kernels loop with the stride gridDim.y, passed as `tiles`).
inline dim3 grid_for(int64_t n_seqs, int64_t tiles, int32_t heads, const char* kernel) {
  const int64_t x = n_seqs * heads;
  if (x > 0x7fffffffLL)
    throw KernelError(std::string(kernel) + ": " + std::to_string(n_seqs) + " sequences x " + std::to_string(heads) +
                      " heads are more blocks than a grid row holds");
  return dim3(static_cast<unsigned>(x), static_cast<unsigned>(tiles < 65535 ? tiles : 65535));
}

// Calls f(T{}, integral_constant<D>) for the eligible dtypes and head dims; `what` names the kernels in errors.
template <class F>
void dispatch_tc(Dtype dtype, int32_t head_dim, const char* what, F&& f) {
  auto with_d = [&](auto t) {
    if (head_dim == 64) return f(t, std::integral_constant<int, 64>{});
    if (head_dim == 128) return f(t, std::integral_constant<int, 128>{});
    throw KernelError(std::string(what) + ": head_dim " + std::to_string(head_dim) + " is not 64 or 128");
  };
  if (dtype == Dtype::bf16) return with_d(__nv_bfloat16{});
  if (dtype == Dtype::f16) return with_d(__half{});
  throw KernelError(std::string(what) + ": the dtype is not bf16 or f16");
}

}  // namespace megaswift::kernels::cuda::tc_ptx
