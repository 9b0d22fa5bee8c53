// RMSNorm and LayerNorm (see norm.hpp). One warp per row: its lanes stride over the row (RMSNorm in 16-byte
// chunks), sum their terms in double, and a fixed butterfly adds the lanes, so a row's statistics do not depend on
// the launch. Parameter gradients: a pass over fixed row blocks (a thread per column, or per 16-byte pack of
// columns) into double partials, then an in-order sum.
#include <kernels/cuda/norm.hpp>
#include <kernels/cuda/pointwise_common.cuh>
#include <kernels/cuda/vec.cuh>

#include <algorithm>
#include <cstdint>
#include <type_traits>

namespace megaswift::kernels::cuda {
namespace {

using namespace pointwise;

constexpr int kThreads = 256;
constexpr int kRowsPerBlock = kThreads / kWarp;  // one warp per row
constexpr int64_t kMaxPartialBlocks = 256;       // bounds the scratch: 256 * dim doubles per parameter
constexpr int64_t kMinRowsPerPartial = 32;

struct RowBlocks {
  int64_t count, rows_per_block;
};

// The row grouping of the parameter-gradient reduction: a function of rows alone (determinism).
RowBlocks row_blocks(int64_t rows) {
  int64_t count = std::min<int64_t>(kMaxPartialBlocks, (rows + kMinRowsPerPartial - 1) / kMinRowsPerPartial);
  count = std::max<int64_t>(count, 1);
  const int64_t per = (rows + count - 1) / count;
  return {(rows + per - 1) / per, per};
}

// ---- RMSNorm ----
//
// A row is cut into chunks of one 16-byte pack (kPack elements); lane l takes chunks l, l + 32, ... and sums its
// terms chunk by chunk, element by element. kPacked moves a chunk with one load or store (dim a multiple of the
// pack, tensors aligned); otherwise element by element with the same order of additions, so the two paths give the
// same bits.

template <class T, bool kPacked>
__device__ __forceinline__ void load_chunk(const T* p, int64_t base, int64_t c0, int64_t dim, float (&v)[vec::kPack<T>]) {
  if constexpr (kPacked) {
    vec::load_pack(p, base + c0, v);
  } else {
#pragma unroll
    for (int e = 0; e < vec::kPack<T>; ++e) v[e] = c0 + e < dim ? load(p, base + c0 + e) : 0.0f;
  }
}

template <class T, bool kPacked>
__device__ __forceinline__ void store_chunk(T* p, int64_t base, int64_t c0, int64_t dim, const float (&v)[vec::kPack<T>]) {
  if constexpr (kPacked) {
    vec::store_pack(p, base + c0, v);
  } else {
#pragma unroll
    for (int e = 0; e < vec::kPack<T>; ++e)
      if (c0 + e < dim) store(p, base + c0 + e, v[e]);
  }
}

template <class T, bool kResidual, bool kPacked>
__global__ void rmsnorm_forward_kernel(const T* x, const T* residual, T* x_out, const void* weight, Dtype wd, T* y,
                                       float* rstd, int64_t rows, int64_t dim, float eps, float offset) {
  constexpr int N = vec::kPack<T>;
  const int lane = threadIdx.x % kWarp;
  for (int64_t row = blockIdx.x * int64_t(kRowsPerBlock) + threadIdx.x / kWarp; row < rows;
       row += int64_t(gridDim.x) * kRowsPerBlock) {
    const int64_t base = row * dim;
    double ss = 0.0;
    for (int64_t c0 = int64_t(lane) * N; c0 < dim; c0 += int64_t(kWarp) * N) {
      float v[N];
      load_chunk<T, kPacked>(x, base, c0, dim, v);
      if constexpr (kResidual) {
        // The norm is of the sum as stored in x_out (what an unfused add then norm computes, and what backward
        // reads as x).
        float r[N];
        load_chunk<T, kPacked>(residual, base, c0, dim, r);
#pragma unroll
        for (int e = 0; e < N; ++e) v[e] = round_to<T>(v[e] + r[e]);
        store_chunk<T, kPacked>(x_out, base, c0, dim, v);
      }
#pragma unroll
      for (int e = 0; e < N; ++e)
        if (kPacked || c0 + e < dim) ss += static_cast<double>(v[e]) * v[e];
    }
    ss = warp_sum(ss);
    const float r = static_cast<float>(1.0 / sqrt(ss / static_cast<double>(dim) + static_cast<double>(eps)));
    if (lane == 0) rstd[row] = r;
    // This lane reads back only the chunks it wrote to x_out.
    const T* src = kResidual ? x_out : x;
    for (int64_t c0 = int64_t(lane) * N; c0 < dim; c0 += int64_t(kWarp) * N) {
      float v[N];
      load_chunk<T, kPacked>(src, base, c0, dim, v);
#pragma unroll
      for (int e = 0; e < N; ++e)
        v[e] = (kPacked || c0 + e < dim) ? (offset + load_dyn(weight, wd, c0 + e)) * (v[e] * r) : 0.0f;
      store_chunk<T, kPacked>(y, base, c0, dim, v);
    }
  }
}

template <class T, bool kPacked>
__global__ void rmsnorm_dx_kernel(const T* x, const void* weight, Dtype wd, const float* rstd, const T* dy, T* dx,
                                  int64_t rows, int64_t dim, float offset, bool accumulate) {
  constexpr int N = vec::kPack<T>;
  const int lane = threadIdx.x % kWarp;
  for (int64_t row = blockIdx.x * int64_t(kRowsPerBlock) + threadIdx.x / kWarp; row < rows;
       row += int64_t(gridDim.x) * kRowsPerBlock) {
    const int64_t base = row * dim;
    const float r = rstd[row];
    double dot = 0.0;  // sum_j w' * dy * xhat
    for (int64_t c0 = int64_t(lane) * N; c0 < dim; c0 += int64_t(kWarp) * N) {
      float xv[N], g[N];
      load_chunk<T, kPacked>(x, base, c0, dim, xv);
      load_chunk<T, kPacked>(dy, base, c0, dim, g);
#pragma unroll
      for (int e = 0; e < N; ++e)
        if (kPacked || c0 + e < dim)
          dot += static_cast<double>((offset + load_dyn(weight, wd, c0 + e)) * g[e]) * (xv[e] * r);
    }
    dot = warp_sum(dot);
    const float c = static_cast<float>(dot / static_cast<double>(dim));
    for (int64_t c0 = int64_t(lane) * N; c0 < dim; c0 += int64_t(kWarp) * N) {
      // A chunk's dy is read before its dx is written, by this lane alone: dx may alias dy.
      float xv[N], g[N], prior[N];
      load_chunk<T, kPacked>(x, base, c0, dim, xv);
      load_chunk<T, kPacked>(dy, base, c0, dim, g);
      if (accumulate) load_chunk<T, kPacked>(dx, base, c0, dim, prior);
#pragma unroll
      for (int e = 0; e < N; ++e) {
        const bool inside = kPacked || c0 + e < dim;
        const float v = inside ? r * ((offset + load_dyn(weight, wd, c0 + e)) * g[e] - (xv[e] * r) * c) : 0.0f;
        g[e] = accumulate ? prior[e] + v : v;
      }
      store_chunk<T, kPacked>(dx, base, c0, dim, g);
    }
  }
}

// ---- LayerNorm ----

template <class T>
__global__ void layernorm_forward_kernel(const T* x, const void* weight, Dtype wd, const void* bias, Dtype bd, T* y,
                                         float* mean, float* rstd, int64_t rows, int64_t dim, float eps) {
  const int lane = threadIdx.x % kWarp;
  for (int64_t row = blockIdx.x * int64_t(kRowsPerBlock) + threadIdx.x / kWarp; row < rows;
       row += int64_t(gridDim.x) * kRowsPerBlock) {
    const int64_t base = row * dim;
    double s = 0.0;
    for (int64_t j = lane; j < dim; j += kWarp) s += load(x, base + j);
    const double mu = warp_sum(s) / static_cast<double>(dim);
    double ss = 0.0;
    for (int64_t j = lane; j < dim; j += kWarp) {
      const double d = load(x, base + j) - mu;
      ss += d * d;
    }
    ss = warp_sum(ss);
    const float m = static_cast<float>(mu);
    const float r = static_cast<float>(1.0 / sqrt(ss / static_cast<double>(dim) + static_cast<double>(eps)));
    if (lane == 0) {
      mean[row] = m;
      rstd[row] = r;
    }
    for (int64_t j = lane; j < dim; j += kWarp) {
      float v = (load(x, base + j) - m) * r * load_dyn(weight, wd, j);
      if (bias) v += load_dyn(bias, bd, j);
      store(y, base + j, v);
    }
  }
}

template <class T>
__global__ void layernorm_dx_kernel(const T* x, const void* weight, Dtype wd, const float* mean, const float* rstd,
                                    const T* dy, T* dx, int64_t rows, int64_t dim) {
  const int lane = threadIdx.x % kWarp;
  for (int64_t row = blockIdx.x * int64_t(kRowsPerBlock) + threadIdx.x / kWarp; row < rows;
       row += int64_t(gridDim.x) * kRowsPerBlock) {
    const int64_t base = row * dim;
    const float m = mean[row], r = rstd[row];
    double sg = 0.0, sgx = 0.0;
    for (int64_t j = lane; j < dim; j += kWarp) {
      const float g = load_dyn(weight, wd, j) * load(dy, base + j);
      sg += g;
      sgx += static_cast<double>(g) * ((load(x, base + j) - m) * r);
    }
    const float mg = static_cast<float>(warp_sum(sg) / static_cast<double>(dim));
    const float mgx = static_cast<float>(warp_sum(sgx) / static_cast<double>(dim));
    for (int64_t j = lane; j < dim; j += kWarp)
      store(dx, base + j,
            r * (load_dyn(weight, wd, j) * load(dy, base + j) - mg - ((load(x, base + j) - m) * r) * mgx));
  }
}

// ---- parameter gradients ----

// Row block blockIdx.y, columns [j0, j0 + kCols) of one thread: pw = sum dy * xhat, pb = sum dy (when pb is
// given), in double over the block's rows in order. xhat = x * rstd (RMSNorm, mean null) or (x - mean) * rstd
// (LayerNorm). kCols is one 16-byte pack where dim is a multiple of it and the tensors are aligned, else 1: a
// column's sum is the same either way.
template <class T, int kCols>
__global__ void norm_param_partials_kernel(const T* x, const T* dy, const float* mean, const float* rstd, int64_t rows,
                                           int64_t dim, int64_t rows_per_block, double* pw, double* pb) {
  const int64_t j0 = (blockIdx.x * int64_t(blockDim.x) + threadIdx.x) * kCols;
  if (j0 >= dim) return;
  const int64_t i0 = blockIdx.y * rows_per_block;
  const int64_t i1 = i0 + rows_per_block < rows ? i0 + rows_per_block : rows;
  double aw[kCols] = {}, ab[kCols] = {};
#pragma unroll 4
  for (int64_t i = i0; i < i1; ++i) {
    float g[kCols], xv[kCols];
    if constexpr (kCols == 1) {
      g[0] = load(dy, i * dim + j0);
      xv[0] = load(x, i * dim + j0);
    } else {
      vec::load_pack(dy, i * dim + j0, g);
      vec::load_pack(x, i * dim + j0, xv);
    }
    const float m = mean ? mean[i] : 0.0f, r = rstd[i];
#pragma unroll
    for (int e = 0; e < kCols; ++e) {
      const float xhat = mean ? (xv[e] - m) * r : xv[e] * r;
      aw[e] += static_cast<double>(g[e] * xhat);
      ab[e] += g[e];
    }
  }
#pragma unroll
  for (int e = 0; e < kCols; ++e) {
    if (pw) pw[blockIdx.y * dim + j0 + e] = aw[e];
    if (pb) pb[blockIdx.y * dim + j0 + e] = ab[e];
  }
}

// out[j] += float(sum_b partials[b, j]), the blocks added in order.
__global__ void add_partials_kernel(const double* partials, int64_t blocks, int64_t dim, void* out, Dtype od) {
  for (int64_t j = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; j < dim; j += int64_t(gridDim.x) * blockDim.x) {
    double s = 0.0;
    for (int64_t b = 0; b < blocks; ++b) s += partials[b * dim + j];
    store_dyn(out, od, j, load_dyn(out, od, j) + static_cast<float>(s));
  }
}

// dweight (and dbias) from x, dy and the saved statistics; launched before any dx pass, so dx may alias dy.
template <class T>
void param_grads(const T* x, const T* dy, const float* mean, const float* rstd, int64_t rows, int64_t dim, void* dweight,
                 Dtype dwd, void* dbias, Dtype dbd, double* partials, cudaStream_t s) {
  if (!dweight && !dbias) return;
  const RowBlocks rb = row_blocks(rows);
  double* pw = dweight ? partials : nullptr;
  double* pb = dbias ? partials + (dweight ? rb.count * dim : 0) : nullptr;
  constexpr int N = vec::kPack<T>;
  if (vec::packable(x, dim, sizeof(T)) && vec::packable(dy, dim, sizeof(T))) {
    const dim3 grid(static_cast<unsigned>((dim / N + kThreads - 1) / kThreads), static_cast<unsigned>(rb.count));
    norm_param_partials_kernel<T, N><<<grid, kThreads, 0, s>>>(x, dy, mean, rstd, rows, dim, rb.rows_per_block, pw, pb);
  } else {
    const dim3 grid(static_cast<unsigned>((dim + kThreads - 1) / kThreads), static_cast<unsigned>(rb.count));
    norm_param_partials_kernel<T, 1><<<grid, kThreads, 0, s>>>(x, dy, mean, rstd, rows, dim, rb.rows_per_block, pw, pb);
  }
  if (pw) add_partials_kernel<<<blocks_for(dim, kThreads), kThreads, 0, s>>>(pw, rb.count, dim, dweight, dwd);
  if (pb) add_partials_kernel<<<blocks_for(dim, kThreads), kThreads, 0, s>>>(pb, rb.count, dim, dbias, dbd);
}

}  // namespace

int64_t norm_partials_doubles(int64_t rows, int64_t dim, int params) {
  return row_blocks(rows).count * dim * params;
}

void rmsnorm_forward(const void* x, const void* residual, void* x_out, const void* weight, Dtype weight_dtype, void* y,
                     float* rstd, Dtype dtype, int64_t rows, int64_t dim, float eps, float weight_offset, Stream stream) {
  if (rows <= 0 || dim <= 0) return;
  dispatch_dtype(dtype, [&](auto t) {
    using T = decltype(t);
    const unsigned blocks = blocks_for(rows, kRowsPerBlock);
    const int e = sizeof(T);
    const bool packed = vec::packable(x, dim, e) && vec::packable(y, dim, e) &&
                        (!residual || (vec::packable(residual, dim, e) && vec::packable(x_out, dim, e)));
    auto launch = [&](auto residual_tag, auto packed_tag) {
      rmsnorm_forward_kernel<T, decltype(residual_tag)::value, decltype(packed_tag)::value>
          <<<blocks, kThreads, 0, stream_of(stream)>>>(static_cast<const T*>(x), static_cast<const T*>(residual),
                                                       static_cast<T*>(x_out), weight, weight_dtype, static_cast<T*>(y),
                                                       rstd, rows, dim, eps, weight_offset);
    };
    using Yes = std::true_type;
    using No = std::false_type;
    if (residual)
      packed ? launch(Yes{}, Yes{}) : launch(Yes{}, No{});
    else
      packed ? launch(No{}, Yes{}) : launch(No{}, No{});
  });
  check_launch("rmsnorm_forward");
}

void rmsnorm_backward(const void* x, const void* weight, Dtype weight_dtype, const float* rstd, const void* dy, void* dx,
                      void* dweight, Dtype dweight_dtype, Dtype dtype, int64_t rows, int64_t dim, float weight_offset,
                      bool accumulate_dx, double* partials, Stream stream) {
  if (rows <= 0 || dim <= 0) return;
  dispatch_dtype(dtype, [&](auto t) {
    using T = decltype(t);
    const cudaStream_t s = stream_of(stream);
    param_grads<T>(static_cast<const T*>(x), static_cast<const T*>(dy), nullptr, rstd, rows, dim, dweight, dweight_dtype,
                   nullptr, Dtype::f32, partials, s);
    if (!dx) return;
    const int e = sizeof(T);
    const unsigned blocks = blocks_for(rows, kRowsPerBlock);
    if (vec::packable(x, dim, e) && vec::packable(dy, dim, e) && vec::packable(dx, dim, e))
      rmsnorm_dx_kernel<T, true><<<blocks, kThreads, 0, s>>>(static_cast<const T*>(x), weight, weight_dtype, rstd,
                                                            static_cast<const T*>(dy), static_cast<T*>(dx), rows, dim,
                                                            weight_offset, accumulate_dx);
    else
      rmsnorm_dx_kernel<T, false><<<blocks, kThreads, 0, s>>>(static_cast<const T*>(x), weight, weight_dtype, rstd,
                                                             static_cast<const T*>(dy), static_cast<T*>(dx), rows, dim,
                                                             weight_offset, accumulate_dx);
  });
  check_launch("rmsnorm_backward");
}

void layernorm_forward(const void* x, const void* weight, Dtype weight_dtype, const void* bias, Dtype bias_dtype,
                       void* y, float* mean, float* rstd, Dtype dtype, int64_t rows, int64_t dim, float eps,
                       Stream stream) {
  if (rows <= 0 || dim <= 0) return;
  dispatch_dtype(dtype, [&](auto t) {
    using T = decltype(t);
    layernorm_forward_kernel<T><<<blocks_for(rows, kRowsPerBlock), kThreads, 0, stream_of(stream)>>>(
        static_cast<const T*>(x), weight, weight_dtype, bias, bias_dtype, static_cast<T*>(y), mean, rstd, rows, dim, eps);
  });
  check_launch("layernorm_forward");
}

void layernorm_backward(const void* x, const void* weight, Dtype weight_dtype, const float* mean, const float* rstd,
                        const void* dy, void* dx, void* dweight, Dtype dweight_dtype, void* dbias, Dtype dbias_dtype,
                        Dtype dtype, int64_t rows, int64_t dim, double* partials, Stream stream) {
  if (rows <= 0 || dim <= 0) return;
  dispatch_dtype(dtype, [&](auto t) {
    using T = decltype(t);
    const cudaStream_t s = stream_of(stream);
    param_grads<T>(static_cast<const T*>(x), static_cast<const T*>(dy), mean, rstd, rows, dim, dweight, dweight_dtype,
                   dbias, dbias_dtype, partials, s);
    if (dx)
      layernorm_dx_kernel<T><<<blocks_for(rows, kRowsPerBlock), kThreads, 0, s>>>(
          static_cast<const T*>(x), weight, weight_dtype, mean, rstd, static_cast<const T*>(dy), static_cast<T*>(dx),
          rows, dim);
  });
  check_launch("layernorm_backward");
}

}  // namespace megaswift::kernels::cuda
