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

__device__ __forceinline__ int64_t min64(int64_t a, int64_t b) { return a < b ? a : b; }
__device__ __forceinline__ int64_t max64(int64_t a, int64_t b) { return a > b ? a : b; }

__device__ __forceinline__ float quad_max(float v) {
  v = fmaxf(v, __shfl_xor_sync(0xffffffffu, v, 1));
  return fmaxf(v, __shfl_xor_sync(0xffffffffu, v, 2));
}
__device__ __forceinline__ float quad_sum(float v) {
  v += __shfl_xor_sync(0xffffffffu, v, 1);
  return v + __shfl_xor_sync(0xffffffffu, v, 2);
}

// Sets to -inf the scores (flat as below: 2 N keys from k0 for the warp's rows row0 + gr and + 8) of the pairs a
// query may not see: keys from i + off + 1 on (causal, bottom-right aligned) or from kv_len on. Nothing to do
// unless the keys cross the rows' diagonal or the end, which most steps do not.
template <int N>
__device__ __forceinline__ void mask_scores(float* s, int64_t row0, int64_t k0, int64_t off, int64_t kv_len) {
  if (k0 + 2 * N <= row0 + off + 1 && k0 + 2 * N <= kv_len) return;
  const int lane = threadIdx.x % 32, gr = lane / 4, tq = lane % 4;
#pragma unroll
  for (int j = 0; j < N / 4; ++j)
#pragma unroll
    for (int e = 0; e < 4; ++e) {
      const int64_t i = row0 + gr + (e >= 2 ? 8 : 0), key = k0 + j * 8 + 2 * tq + (e & 1);
      if (key >= min64(i + off + 1, kv_len)) s[4 * j + e] = -INFINITY;
    }
}

// One online-softmax step of a warp's two rows (the C layout of an mma: element 4 j + e of n8 tile j, rows gr and
// gr + 8 by e >> 1) over N / 4 n8 tiles of scores s (log2 domain after the scale sl2): the running max m and sum l
// of each row move on, alpha receives the factor O must be rescaled by, and s becomes exp2(s sl2 - max), masked
// scores (-inf) 0. A row that has seen no key yet (m = -inf) keeps zeros: exp2(-inf - 0) = 0, never -inf - -inf.
template <int N>
__device__ __forceinline__ void online_softmax(float* s, float (&m)[2], float (&l)[2], float (&alpha)[2], float sl2) {
  float mx[2] = {m[0], m[1]};
#pragma unroll
  for (int j = 0; j < N / 4; ++j) {
    mx[0] = fmaxf(mx[0], fmaxf(s[4 * j], s[4 * j + 1]));
    mx[1] = fmaxf(mx[1], fmaxf(s[4 * j + 2], s[4 * j + 3]));
  }
  float ms[2];
#pragma unroll
  for (int r = 0; r < 2; ++r) {
    mx[r] = quad_max(mx[r]);
    ms[r] = mx[r] == -INFINITY ? 0.0f : mx[r] * sl2;
    alpha[r] = exp2f(m[r] * sl2 - ms[r]);
    m[r] = mx[r];
    l[r] *= alpha[r];
  }
#pragma unroll
  for (int j = 0; j < N / 4; ++j)
#pragma unroll
    for (int e = 0; e < 4; ++e) {
      s[4 * j + e] = exp2_ftz(fmaf(s[4 * j + e], sl2, -ms[e >> 1]));
      l[e >> 1] += s[4 * j + e];  // this thread's share of the row sum; the quad adds up at the end
    }
}

// The forward's end for a warp's two rows: out rows row0 + gr and + 8 (those before q_len) = O / l (D / 8 n8
// tiles of o, flat as above), rounded to T, and their lse (natural log) at lse_at(i) when lse is given.
template <class T, int D, class LseAt>
__device__ __forceinline__ void store_forward_rows(const float* o, const float (&m)[2], const float (&l)[2], float sl2,
                                                   T* out, int64_t q_at, int64_t q_stride, int64_t q_len, int64_t row0,
                                                   float* lse, LseAt lse_at) {
  const int lane = threadIdx.x % 32, gr = lane / 4, tq = lane % 4;
#pragma unroll
  for (int r = 0; r < 2; ++r) {
    const float lr = quad_sum(l[r]);
    const int64_t i = row0 + gr + 8 * r;
    if (i >= q_len) continue;
    // l = 0 only for a query that sees no key (more queries than keys, which ops.h forbids): zeros, lse -inf.
    const float inv = lr > 0.0f ? 1.0f / lr : 0.0f;
    T* dst = out + q_at + i * q_stride + 2 * tq;
#pragma unroll
    for (int j = 0; j < D / 8; ++j)
      *reinterpret_cast<uint32_t*>(dst + j * 8) = pack<T>(o[4 * j + 2 * r] * inv, o[4 * j + 2 * r + 1] * inv);
    if (lse && tq == 0) lse[lse_at(i)] = lr > 0.0f ? (m[r] * sl2 + log2f(lr)) * kLn2 : -INFINITY;
  }
}


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
