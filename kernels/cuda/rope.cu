// RoPE tables and rotation (see rope.hpp).
#include <kernels/cuda/pointwise_common.cuh>
#include <kernels/cuda/rope.hpp>
#include <kernels/cuda/rope_rotate.cuh>
#include <kernels/cuda/vec.cuh>

#include <cstdint>

namespace megaswift::kernels::cuda {
namespace {

using namespace pointwise;

constexpr int kThreads = 256;
constexpr int kMaxThreads = 1024;

__device__ __forceinline__ int64_t position_at(const void* positions, bool i32, int64_t p) {
  if (!positions) return p;
  return i32 ? static_cast<int64_t>(static_cast<const int32_t*>(positions)[p]) : static_cast<const int64_t*>(positions)[p];
}

// Dynamic NTK with device positions: out = the frequencies of kernels/cpu's rope_inv_freq for the largest
// position, evaluated with the same formula in double (one block).
__global__ void rope_dynamic_freqs_kernel(const void* positions, bool i32, int64_t n, RopeFreqs host, int64_t half,
                                          RopeDynamic dyn, float* out) {
  __shared__ int64_t largest[kMaxThreads];
  int64_t m = 0;  // the CPU's max starts at 0 too
  for (int64_t p = threadIdx.x; p < n; p += blockDim.x) {
    const int64_t v = position_at(positions, i32, p);
    m = v > m ? v : m;
  }
  largest[threadIdx.x] = m;
  __syncthreads();
  for (unsigned w = blockDim.x / 2; w > 0; w >>= 1) {
    if (threadIdx.x < w && largest[threadIdx.x + w] > largest[threadIdx.x]) largest[threadIdx.x] = largest[threadIdx.x + w];
    __syncthreads();
  }
  const int64_t max_position = largest[0];
  if (max_position + 1 <= dyn.max_position_embeddings) {
    // theta is not scaled: the host's frequencies are the CPU's exactly.
    for (int64_t i = threadIdx.x; i < half; i += blockDim.x) out[i] = host.inv[i];
    return;
  }
  const int64_t d = dyn.rotary_dim;
  const double len = static_cast<double>(max_position + 1);
  const double mp = static_cast<double>(dyn.max_position_embeddings);
  const double theta = dyn.theta * pow(dyn.factor * len / mp - (dyn.factor - 1.0), static_cast<double>(d) / (d - 2));
  for (int64_t i = threadIdx.x; i < half; i += blockDim.x) {
    // pos_freq of kernels/cpu/rope.cpp: the exponent and the power rounded to float as HF's float32 evaluation.
    const float e = static_cast<float>(2 * i) / static_cast<float>(d);
    const float pf = static_cast<float>(pow(static_cast<double>(static_cast<float>(theta)), static_cast<double>(e)));
    out[i] = 1.0f / pf;
  }
}

__global__ void rope_tables_kernel(const void* positions, bool i32, int64_t n, RopeFreqs host, const float* device_inv,
                                   int64_t half, float att, float* cos_out, float* sin_out) {
  // The frequencies in shared memory: a by-value argument array indexed at run time could be copied to local
  // memory per thread.
  __shared__ float inv[kRopeMaxHalf];
  for (int64_t i = threadIdx.x; i < half; i += blockDim.x) inv[i] = device_inv ? device_inv[i] : host.inv[i];
  __syncthreads();
  for (int64_t idx = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; idx < n * half; idx += int64_t(gridDim.x) * blockDim.x) {
    const int64_t p = idx / half, i = idx % half;
    const int64_t position = position_at(positions, i32, p);
    if (position < 0) {
      cos_out[idx] = sin_out[idx] = __int_as_float(0x7fc00000);  // NaN: see rope.hpp
      continue;
    }
    const float angle = __fmul_rn(inv[i], static_cast<float>(position));  // float32 product, as torch's matmul
    cos_out[idx] = __fmul_rn(static_cast<float>(cos(static_cast<double>(angle))), att);
    sin_out[idx] = __fmul_rn(static_cast<float>(sin(static_cast<double>(angle))), att);
  }
}

// One thread per rotating pair (e < half) or pass-through channel (e >= half, only when y is not x) of a head.
// The products are rounded separately (no FMA contraction), as the CPU's loop computes them.
template <class T>
__global__ void rope_apply_kernel(const T* x, T* y, const float* cos_t, const float* sin_t, int64_t tokens,
                                  int64_t heads, int64_t head_dim, int64_t half, int64_t rotary_dim,
                                  int64_t rows_per_position, float sign, int64_t per_head) {
  const int64_t n = tokens * heads * per_head;
  for (int64_t idx = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; idx < n; idx += int64_t(gridDim.x) * blockDim.x) {
    const int64_t e = idx % per_head, th = idx / per_head;
    const int64_t base = th * head_dim;
    if (e < half) {
      const int64_t row = (th / heads) / rows_per_position;
      const float c = cos_t[row * half + e];
      const float s = sign * sin_t[row * half + e];
      const float x1 = load(x, base + e), x2 = load(x, base + e + half);
      store(y, base + e, __fsub_rn(__fmul_rn(x1, c), __fmul_rn(x2, s)));
      store(y, base + e + half, __fadd_rn(__fmul_rn(x2, c), __fmul_rn(x1, s)));
    } else {
      const int64_t ch = rotary_dim + (e - half);
      store(y, base + ch, load(x, base + ch));
    }
  }
}

// The same rotation, one thread per pack of kPack pairs (or of pass-through channels): one 16-byte load for the
// first halves, one for the second, and the table rows as float4s (rope_rotate.cuh), instead of one 2-byte access
// per element; the index arithmetic runs once per pack. The products are rope_apply_kernel's, so are the bits.
template <class T>
__global__ void rope_apply_packed(const T* x, T* y, const float* cos_t, const float* sin_t, int64_t tokens,
                                  int64_t heads, int64_t head_dim, int64_t half, int64_t rotary_dim,
                                  int64_t rows_per_position, float sign, int64_t per_head_packs) {
  constexpr int N = vec::kPack<T>;
  const int64_t half_packs = half / N;
  const int64_t n = tokens * heads * per_head_packs;
  for (int64_t idx = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; idx < n; idx += int64_t(gridDim.x) * blockDim.x) {
    const int64_t p = idx % per_head_packs, th = idx / per_head_packs;
    const int64_t base = th * head_dim;
    if (p < half_packs) {
      const int64_t e = p * N;
      const int64_t row = (th / heads) / rows_per_position;
      rope_detail::rotate_pack(x, base + e, base + e + half, y, base + e, base + e + half, cos_t + row * half + e,
                               sin_t + row * half + e, sign);
    } else {
      const int64_t ch = rotary_dim + (p - half_packs) * N;
      *reinterpret_cast<uint4*>(y + base + ch) = *reinterpret_cast<const uint4*>(x + base + ch);
    }
  }
}

}  // namespace

void rope_tables(const void* positions, bool positions_i32, int64_t n_positions, const RopeFreqs& freqs, int64_t half,
                 float attention_factor, const RopeDynamic* dynamic, float* freq_scratch, float* cos, float* sin,
                 Stream stream) {
  if (n_positions <= 0) return;
  if (half <= 0 || half > kRopeMaxHalf)
    throw KernelError("rope_tables: " + std::to_string(half) + " frequencies, at most " + std::to_string(kRopeMaxHalf));
  const cudaStream_t s = stream_of(stream);
  const float* device_inv = nullptr;
  if (dynamic && positions) {
    rope_dynamic_freqs_kernel<<<1, kMaxThreads, 0, s>>>(positions, positions_i32, n_positions, freqs, half, *dynamic,
                                                        freq_scratch);
    device_inv = freq_scratch;
  }
  rope_tables_kernel<<<blocks_for(n_positions * half, kThreads), kThreads, 0, s>>>(
      positions, positions_i32, n_positions, freqs, device_inv, half, attention_factor, cos, sin);
  check_launch("rope_tables");
}

void rope_apply(const void* x, void* y, Dtype dtype, const float* cos, const float* sin, int64_t tokens, int64_t heads,
                int64_t head_dim, int64_t rotary_dim, int64_t rows_per_position, bool inverse, Stream stream) {
  if (tokens <= 0 || heads <= 0) return;
  const int64_t half = rotary_dim / 2;
  // In place, the channels past rotary_dim already hold their values.
  const int64_t per_head = half + (x == y ? 0 : head_dim - rotary_dim);
  dispatch_dtype(dtype, [&](auto t) {
    using T = decltype(t);
    constexpr int N = vec::kPack<T>;
    // Packed where every pack lies inside one half of one head and every access is 16-byte aligned (the table
    // rows included: half is a multiple of the pack, which makes half * 4 bytes a multiple of 16 for f32 too).
    if (half % N == 0 && head_dim % N == 0 && half % 4 == 0 && vec::aligned(x) && vec::aligned(y) &&
        vec::aligned(cos) && vec::aligned(sin)) {
      const int64_t per_head_packs = per_head / N;
      rope_apply_packed<T><<<blocks_for(tokens * heads * per_head_packs, kThreads), kThreads, 0, stream_of(stream)>>>(
          static_cast<const T*>(x), static_cast<T*>(y), cos, sin, tokens, heads, head_dim, half, rotary_dim,
          rows_per_position, inverse ? -1.0f : 1.0f, per_head_packs);
      return;
    }
    rope_apply_kernel<T><<<blocks_for(tokens * heads * per_head, kThreads), kThreads, 0, stream_of(stream)>>>(
        static_cast<const T*>(x), static_cast<T*>(y), cos, sin, tokens, heads, head_dim, half, rotary_dim,
        rows_per_position, inverse ? -1.0f : 1.0f, per_head);
  });
  check_launch(inverse ? "rope_backward" : "rope_forward");
}

}  // namespace megaswift::kernels::cuda
